"""``tools/test.py --dump``: MMEngine's ``DumpResults``, written
atomically."""
from mmaction.registry import METRICS
from mmengine.evaluator import DumpResults
from mmengine.fileio import dump
from mmengine.logging import print_log

from mafsar_mm.engine.atomic_file_backend import ATOMIC_BACKEND


@METRICS.register_module()
class AtomicDumpResults(DumpResults):
    """Dump the predictions to a pickle file, as MMEngine's
    ``DumpResults``, through the project's atomic writer.

    MMEngine's ``DumpResults.compute_metrics`` calls
    ``mmengine.fileio.dump(results, path)``, whose local backend opens
    ``path`` with ``'wb'`` and writes into it: a full disk or a kill
    destroys the previous file. Here the same ``dump`` goes through the
    ``'atomic_local'`` backend (:class:`mafsar_mm.engine.AtomicLocalBackend`,
    i.e. :func:`mafsar_mm.utils.atomic_files.atomic_write`): the previous
    file stays intact until the new one is complete, and a failed write
    raises an ``OSError`` naming ``out_file_path``.

    Args:
        out_file_path (str): Path of the dump; must end with '.pkl' or
            '.pickle'.
        **kwargs: ``collect_device``/``collect_dir`` of ``DumpResults``.
    """

    def compute_metrics(self, results: list) -> dict:
        """Write the prediction results atomically; no metrics."""
        dump(
            results,
            self.out_file_path,
            file_format='pkl',
            backend_args=dict(backend=ATOMIC_BACKEND))
        print_log(
            f'Results has been saved to {self.out_file_path}.',
            logger='current')
        return {}
