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
    proc = subprocess.run(
        [sys.executable, '-c', _MEASURE, sys.executable] + list(args),
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True)
    wall = time.perf_counter() - start
    lines = [x for x in proc.stdout.splitlines() if x.startswith(RESULT_TAG)]
    if not lines:
        raise RuntimeError(f'measuring {args[0]} failed: '
                           f'{proc.stderr[-2000:]}')
    line = lines[-1]
    status, peak = line[len(RESULT_TAG):].split()
    return int(status), int(peak) * 1024, wall


def metric_state_bytes(num_episodes: int, seed: int = 0) -> dict:
    """Memory held by :class:`FewShotAccuracy` after ``num_episodes``
    random 5-way episodes of 1 query per class (``tracemalloc``: bytes
    allocated by ``process`` and still alive; and the pickled size of
    ``self.results``, what MMEngine gathers over ranks)."""
    import pickle
    import tracemalloc

    import torch

    from mafsar_mm.evaluation import FewShotAccuracy
    generator = torch.Generator().manual_seed(seed)
    gt = torch.arange(5)
    preds = torch.randint(0, 5, (1000, 5), generator=generator)
    metric = FewShotAccuracy()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for i in range(num_episodes):
        metric.process({}, [
            dict(pred_labels=preds[i % 1000], query_labels=gt, episode_id=i)
        ])
    held = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    metrics = metric.compute_metrics(metric.results)
    return dict(
        episodes=num_episodes,
        traced_bytes=held,
        pickled_bytes=len(pickle.dumps(metric.results)),
        results_len=len(metric.results),
        counted=metrics['episodes'])


def run_test_memory(data_root: str,
                    episodes: Sequence[int],
                    metric_episodes: Sequence[int] = (),
                    log: Callable = print) -> dict:
    """Peak RSS of ``tools/test.py`` for each number of episodes.

    The quickstart config on ``data_root`` with a random tiny CLIP; its
    checkpoint comes from one training iteration (``tools/train.py``).
    Each test runs in a fresh process with the feature cache (the
    default test loop) and one torch thread.

    Args:
        data_root (str): Synthetic dataset root.
        episodes (Sequence[int]): Numbers of test episodes.
        metric_episodes (Sequence[int]): Numbers of episodes for
            :func:`metric_state_bytes`. Defaults to ().
        log (callable): Progress printer. Defaults to print.

    Returns:
        dict: One row per episode count (peak RSS, wall time, metrics)
        and the metric's state sizes.
    """
    metric = []
    for num in metric_episodes:
        metric.append(metric_state_bytes(num))
        log(f'[test_memory] metric state after {num} episodes: '
            f'{metric[-1]["traced_bytes"]} bytes')
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
    return dict(rows=rows, metric=metric)


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
    if res.get('metric'):
        lines += [
            '', '`FewShotAccuracy` alone, fed random 5-way episodes in '
            'this process: memory allocated by `process` and still held '
            '(`tracemalloc`), and the pickled size of `self.results` (what '
            'MMEngine gathers from every rank):', ''
        ]
        lines += _table(
            ('episodes', 'held bytes', 'pickled results bytes',
             'len(results)', 'episodes counted'),
            [(f'{m["episodes"]:,d}', f'{m["traced_bytes"]:,d}',
              f'{m["pickled_bytes"]:,d}', m['results_len'],
              f'{m["counted"]:,d}') for m in res['metric']])
    return lines
