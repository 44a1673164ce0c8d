"""Section 6: peak memory of ``tools/test.py`` against the number of test
episodes (issue 23 item 9: the sampler and ``FewShotAccuracy`` keep
constant-size state, so memory must not grow with the episode count)."""
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Callable, Sequence

from .common import QUICKSTART_CONFIG, RESULT_TAG, ROOT

# runs a command and prints the peak RSS (KiB) of the largest process
# among its reaped descendants (getrusage(RUSAGE_CHILDREN).ru_maxrss)
_MEASURE = ('import resource, subprocess, sys\n'
            'status = subprocess.call(sys.argv[1:])\n'
            'peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n'
            f'print({RESULT_TAG!r} + str(status) + " " + str(peak))\n')

_CONFIG = """_base_ = {base!r}
data_root = {root!r}
model = dict(
    backbone=dict(clip=dict(pretrained=None)),
    text_encoder=dict(clip=dict(pretrained=None)))
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
"""


def _env() -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    return env


def _measured(args: Sequence[str]) -> tuple:
    """Run ``args``; return (exit status, peak RSS bytes, wall seconds)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, '-c', _MEASURE] + list(args),
                         cwd=ROOT,
                         env=_env(),
                         stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL,
                         text=True).stdout
    wall = time.perf_counter() - start
    line = [x for x in out.splitlines() if x.startswith(RESULT_TAG)][-1]
    status, peak = line[len(RESULT_TAG):].split()
    return int(status), int(peak) * 1024, wall


def run_test_memory(data_root: str,
                    episodes: Sequence[int],
                    log: Callable = print) -> dict:
    """Peak RSS of ``tools/test.py`` for each number of episodes.

    The quickstart config on ``data_root`` with a random tiny CLIP; its
    checkpoint comes from one training iteration (``tools/train.py``).
    Each test runs in a fresh process with the feature cache (the
    default test loop) and one torch thread.

    Args:
        data_root (str): Synthetic dataset root.
        episodes (Sequence[int]): Numbers of test episodes.
        log (callable): Progress printer. Defaults to print.

    Returns:
        dict: One row per episode count (peak RSS, wall time, metrics).
    """
    with tempfile.TemporaryDirectory(prefix='test_memory_') as tmp:
        config = osp.join(tmp, 'tiny.py')
        with open(config, 'w') as f:
            f.write(_CONFIG.format(base=QUICKSTART_CONFIG, root=data_root))
        train = osp.join(tmp, 'train')
        status, _, wall = _measured([
            osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', train,
            '--no-validate', '--cfg-options', 'train_cfg.max_iters=1',
            'default_hooks.checkpoint.interval=1'
        ])
        checkpoint = osp.join(train, 'iter_1.pth')
        if status != 0 or not osp.isfile(checkpoint):
            raise RuntimeError(f'tools/train.py failed (status {status})')
        log(f'[test_memory] checkpoint in {wall:.0f} s')
        rows = []
        for num in episodes:
            metrics_file = osp.join(tmp, f'metrics_{num}.json')
            status, peak, wall = _measured([
                osp.join(ROOT, 'tools', 'test.py'), config, checkpoint,
                '--num-episodes',
                str(num), '--work-dir',
                osp.join(tmp, f'test_{num}'), '--dump-metrics', metrics_file
            ])
            if status != 0:
                raise RuntimeError(f'tools/test.py --num-episodes {num} '
                                   f'failed (status {status})')
            with open(metrics_file) as f:
                metrics = json.load(f)
            rows.append(
                dict(
                    episodes=num,
                    peak_rss=peak,
                    wall_s=wall,
                    measured_episodes=metrics['fewshot/episodes'],
                    acc=metrics['fewshot/acc'],
                    ci95=metrics['fewshot/ci95']))
            log(f'[test_memory] {num} episodes: peak RSS '
                f'{peak / 2**20:.1f} MiB, {wall:.0f} s')
    return dict(rows=rows)


def render_test_memory(res: dict) -> list:
    """Markdown of the test-memory section."""
    from .markdown import _table
    rows = [(f'{r["episodes"]:,d}', f'{r["measured_episodes"]:,d}',
             f'{r["peak_rss"] / 2**20:.1f}', f'{r["wall_s"]:.0f}',
             f'{r["acc"]:.2f} +/- {r["ci95"]:.2f}') for r in res['rows']]
    lines = [
        '`tools/test.py CONFIG CKPT --num-episodes N` (the quickstart '
        'config, random tiny CLIP, checkpoint of one training iteration, '
        'feature cache, one torch thread), each N in a fresh process. '
        'Peak RSS: the largest `getrusage(RUSAGE_CHILDREN).ru_maxrss` '
        'over the tool and its loader workers, i.e. the tool\'s main '
        'process.', ''
    ]
    lines += _table(('episodes asked', 'episodes in the metrics',
                     'peak RSS MiB', 'wall s', 'accuracy % (95% CI)'), rows)
    first, last = res['rows'][0], res['rows'][-1]
    growth = (last['peak_rss'] - first['peak_rss']) / 2**20
    lines += [
        '', f'From {first["episodes"]:,d} to {last["episodes"]:,d} '
        f'episodes the peak RSS changes by {growth:+.1f} MiB '
        f'({(last["episodes"] - first["episodes"]):,d} more episodes).'
    ]
    return lines
