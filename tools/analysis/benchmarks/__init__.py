"""The efficiency benchmarks behind ``docs/benchmarks.md`` (issue 7).

One module per section, each with a ``run_*`` function returning plain
JSON-able results: :mod:`.params` (parameter counts), :mod:`.train` and
:mod:`.train_worker` (memory and time of a training step, one process per
variant), :mod:`.evaluation` (plain test path against the feature cache),
:mod:`.matchers` and :mod:`.data` (loader throughput); :mod:`.report`
and :mod:`.render_train` turn the stored results into the Markdown
report. The command line is ``tools/analysis/benchmark.py``. Every model
is built from the configs in ``configs/_base_/models`` (:mod:`.common`)
with random weights of the real architecture: nothing is downloaded.
"""
