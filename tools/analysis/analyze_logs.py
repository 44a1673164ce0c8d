"""Plot training curves from MMEngine's ``vis_data/scalars.json`` files.

Every line of ``scalars.json`` (written by MMEngine's ``LocalVisBackend``)
is one JSON object: the training scalars of an iteration (``loss``,
``loss_q2s``, ``lr``, ...) or the validation metrics (``fewshot/acc``,
...), with the iteration as ``step``. One PNG holds one panel per key and
one line per run (MMAction2's ``tools/analysis_tools/analyze_logs.py``
does the same from its JSON logs with seaborn; this one needs only
matplotlib). A summary of every key (first, last, best and where) is
printed. Examples::

    python tools/analysis/analyze_logs.py work_dirs/run_a --out curves.png
    python tools/analysis/analyze_logs.py a/vis_data/scalars.json \\
        b/vis_data/scalars.json --keys loss fewshot/acc --legend a b

A work dir stands for the ``scalars.json`` of its newest run.
"""
import argparse
import glob
import json
import math
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from mafsar_mm.utils.errors import InputError, run_main

#: Keys that are bookkeeping, not curves.
SKIP_KEYS = ('step', 'iter', 'epoch', 'data_time', 'time', 'memory')

#: Validation scalars left out by default.
NOT_CURVES = ('/ci95', '/episodes')

Series = Dict[str, List[Tuple[int, float]]]


def find_scalars(path: str) -> str:
    """``path`` if it is a file, else the newest ``*/vis_data/scalars.json``
    under the work dir ``path``.

    Raises:
        InputError: If there is none.
    """
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        found = sorted(
            glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')) +
            glob.glob(osp.join(path, 'vis_data', 'scalars.json')))
        if found:
            return found[-1]  # run folders are timestamps
        raise InputError(f'{path}: no */vis_data/scalars.json in this work '
                         'dir (did a training run log here?).')
    raise InputError(f'{path}: no such file or work dir.')


def read_scalars(path: str) -> Series:
    """Every numeric key of a ``scalars.json`` as ``[(step, value)]``.

    Raises:
        InputError: If a line is not JSON or has no ``step``.
    """
    series: Series = {}
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                step = int(record['step'])
            except (ValueError, KeyError, TypeError) as err:
                raise InputError(
                    f'{path} line {number}: not a scalars.json record with '
                    f'a step ({type(err).__name__}: {err}).') from None
            for key, value in record.items():
                if key in SKIP_KEYS or isinstance(value, bool) or \
                        not isinstance(value, (int, float)):
                    continue
                series.setdefault(key, []).append((step, float(value)))
    if not series:
        raise InputError(f'{path}: no scalars logged.')
    return series


def default_keys(runs: Sequence[Series]) -> List[str]:
    """Losses, then validation metrics (``*/...``, not their confidence
    intervals and episode counts) found in any run."""
    keys = sorted({k for run in runs for k in run})
    losses = [k for k in keys if k.startswith('loss')]
    metrics = [
        k for k in keys if '/' in k and not k.endswith(NOT_CURVES)
    ]
    return losses + metrics or keys


def summary(name: str, run: Series, keys: Sequence[str]) -> List[str]:
    """One line per key: points, first, last, best (max for metrics,
    min for losses) and its step."""
    lines = []
    for key in keys:
        points = run.get(key)
        if not points:
            continue
        pick = min if key.startswith('loss') or key == 'lr' else max
        step, best = pick(points, key=lambda p: p[1])
        lines.append(f'{name}  {key}: {len(points)} points, first '
                     f'{points[0][1]:.4g} (step {points[0][0]}), last '
                     f'{points[-1][1]:.4g} (step {points[-1][0]}), '
                     f'{pick.__name__} {best:.4g} (step {step})')
    return lines


def plot(runs: Sequence[Series],
         names: Sequence[str],
         keys: Sequence[str],
         out: str,
         title: Optional[str] = None) -> None:
    """One panel per key, one line per run, written to ``out`` (PNG)
    atomically. matplotlib's object API: no global pyplot state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from mafsar_mm.utils.atomic_files import atomic_path
    cols = min(len(keys), 2)
    rows = math.ceil(len(keys) / cols)
    fig = Figure(figsize=(6 * cols, 3.6 * rows), dpi=100)
    FigureCanvasAgg(fig)
    for index, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, index + 1)
        for run, name in zip(runs, names):
            points = run.get(key)
            if points:
                steps, values = zip(*points)
                ax.plot(
                    steps,
                    values,
                    marker='o' if len(points) < 30 else '',
                    label=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel('iteration')
        ax.set_title(key)
        ax.grid(alpha=0.3)
        if len(runs) > 1:
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(out, keep_suffix=True) as tmp:
        fig.savefig(tmp, format='png')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot loss / accuracy curves from scalars.json files.')
    parser.add_argument(
        'logs',
        nargs='+',
        help='vis_data/scalars.json files or work dirs (newest run)')
    parser.add_argument(
        '--keys',
        nargs='+',
        help='scalars to plot (default: the losses and validation metrics)')
    parser.add_argument(
        '--legend', nargs='+', help='one name per log (default: its run)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument(
        '--out', default='curves.png', help='PNG file (default: curves.png)')
    parser.add_argument(
        '--debug', action='store_true', help='show stack traces of errors')
    return parser.parse_args(argv)


def _run_name(path: str) -> str:
    """``<work dir>/<timestamp>`` of ``.../vis_data/scalars.json``."""
    run = osp.dirname(osp.dirname(osp.abspath(path)))
    return osp.join(osp.basename(osp.dirname(run)), osp.basename(run))


def main(argv=None) -> int:
    args = parse_args(argv)
    from mafsar_mm.utils.output_paths import check_output_path
    paths = [find_scalars(p) for p in args.logs]
    if not args.out.lower().endswith('.png'):
        raise InputError(f'--out {args.out}: the figure is a PNG; end the '
                         'name with .png.')
    check_output_path(args.out, '--out', {
        f'log {i}': p
        for i, p in enumerate(paths)
    })
    if args.legend and len(args.legend) != len(paths):
        raise InputError(f'--legend: {len(args.legend)} names for '
                         f'{len(paths)} logs.')
    names = args.legend or [_run_name(p) for p in paths]
    runs = [read_scalars(p) for p in paths]
    keys = args.keys or default_keys(runs)
    missing = [k for k in keys if not any(k in run for run in runs)]
    if missing:
        known = sorted({k for run in runs for k in run})
        raise InputError(f'--keys: {", ".join(missing)} not in the logs '
                         f'(they have: {", ".join(known)}).')
    for run, name in zip(runs, names):
        print('\n'.join(summary(name, run, keys)))
    plot(runs, names, keys, args.out, args.title)
    print(f'Curves of {", ".join(keys)} written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
