"""Section 7: what the headline config costs with ``tools/train.py`` (issue
24 item 1): peak memory, the time to the first logged iteration and the
time per iteration of ``configs/mafsar_ssv2_5w1s.py`` (MA-FSAR, CLIP
ViT-B/16, 224 px, 8 frames, 5-way 1-shot with 5 queries per class: 30
videos per episode) for each memory setting, on the synthetic videos (the
pipeline resizes them to 224 px) with random CLIP weights.

Each setting runs in a fresh process that a watchdog polls every second:
the resident memory of the process tree (``/proc``) is its peak, and a run
over the memory limit is stopped there and reported as such, so that a
setting that does not fit is measured without exhausting the machine.
"""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

from .common import ROOT

HEADLINE_CONFIG = osp.join(ROOT, 'configs', 'mafsar_ssv2_5w1s.py')

#: setting -> extra ``--cfg-options`` of the backbone's gradient
#: checkpointing (``CLIPViTFgMA.with_cp``)
HEADLINE_SETTINGS = {
    'with_cp=False (none)': ['model.backbone.with_cp=False'],
    "with_cp='mlp' (frozen MLPs)": ['model.backbone.with_cp=mlp'],
    'with_cp=True (whole blocks)': ['model.backbone.with_cp=True'],
}

_CONFIG = """_base_ = {base!r}
data_root = {root!r}
model = dict(
    backbone=dict(clip=dict(pretrained=None)),
    text_encoder=dict(clip=dict(pretrained=None)))
# the synthetic lists name videos/... relative to the root (the real
# datasets' lists are relative to data_prefix)
_data = dict(data_root=data_root, data_prefix=dict(video=''))
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
"""

_ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/')
#: MMEngine adds the GPU's peak allocated memory (MiB) to each logged
#: iteration on a GPU
_GPU_MEMORY = re.compile(r'  memory: (\d+)')


def gpu_memory_mib(lines: Sequence[str]) -> Optional[int]:
    """The largest GPU memory MMEngine logged, or None (CPU run)."""
    found = [int(m.group(1)) for line in lines if _ITER.search(line)
             for m in [_GPU_MEMORY.search(line)] if m]
    return max(found) if found else None


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants (0 once gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f'/proc/{p}/status') as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1]) * 1024
            with open(f'/proc/{p}/task/{p}/children') as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run_setting(config: str, options: Sequence[str], work_dir: str,
                iters: int, limit_bytes: int, threads: int) -> dict:
    """Train ``iters`` iterations under the watchdog.

    Returns:
        dict: ``status`` ('ok', 'over limit' or 'failed'), ``peak_rss``,
        ``gpu_memory_mib`` (None on a CPU),
        ``first_iter_s`` (start to the first logged iteration),
        ``iter_s`` (mean time between logged iterations), ``wall_s`` and
        ``tail`` (the last output lines when failed).
    """
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir,
        '--no-validate', '--cfg-options', f'train_cfg.max_iters={iters}',
        'default_hooks.logger.interval=1',
        f'default_hooks.checkpoint.interval={iters + 1}',
        'default_hooks.checkpoint.save_last=False', *options
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    log = osp.join(work_dir, 'console.txt')
    os.makedirs(work_dir, exist_ok=True)
    start = time.perf_counter()
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        peak, stamps, over = 0, {}, False
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            if peak > limit_bytes:
                over = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            with open(log) as f:
                for line in f:
                    m = _ITER.search(line)
                    if m and int(m.group(1)) not in stamps:
                        stamps[int(m.group(1))] = time.perf_counter() - start
            time.sleep(1.0)
    wall = time.perf_counter() - start
    with open(log) as f:
        lines = f.read().splitlines()
    for line in lines:  # iterations logged after the last poll
        m = _ITER.search(line)
        if m and int(m.group(1)) not in stamps:
            stamps[int(m.group(1))] = wall
    done = sorted(stamps)
    status = ('over limit' if over else
              'ok' if proc.returncode == 0 and len(done) == iters else
              'failed')
    steps = [stamps[b] - stamps[a] for a, b in zip(done, done[1:])]
    return dict(status=status, peak_rss=peak, wall_s=wall,
                gpu_memory_mib=gpu_memory_mib(lines),
                iters_logged=len(done),
                first_iter_s=stamps[done[0]] if done else None,
                iter_s=sum(steps) / len(steps) if steps else None,
                tail=lines[-5:] if status == 'failed' else [])


def run_headline(data_root: str,
                 settings: Dict[str, List[str]] = None,
                 iters: int = 2,
                 limit_gib: float = 16.0,
                 threads: int = 2,
                 log: Callable = print) -> dict:
    """Each memory setting of the headline config for ``iters``
    iterations; see the module docstring.

    Args:
        data_root (str): Synthetic dataset root (its train split).
        settings (dict, optional): Setting -> ``--cfg-options``. Defaults
            to :data:`HEADLINE_SETTINGS`.
        iters (int): Training iterations per setting. Defaults to 2.
        limit_gib (float): Memory limit of a run. Defaults to 16.
        threads (int): Torch threads. Defaults to 2.
        log (callable): Progress printer. Defaults to print.

    Returns:
        dict: ``rows`` (one per setting), ``iters``, ``limit_gib``,
        ``threads``.
    """
    settings = HEADLINE_SETTINGS if settings is None else settings
    rows = []
    with tempfile.TemporaryDirectory(prefix='headline_') as tmp:
        config = osp.join(tmp, 'headline.py')
        with open(config, 'w') as f:
            f.write(_CONFIG.format(base=HEADLINE_CONFIG, root=data_root))
        for i, (name, options) in enumerate(settings.items()):
            row = run_setting(config, options, osp.join(tmp, str(i)), iters,
                              int(limit_gib * 2**30), threads)
            row.update(setting=name, options=list(options))
            rows.append(row)
            log(f'[headline] {name}: {row["status"]}, peak '
                f'{row["peak_rss"] / 2**30:.1f} GiB, '
                f'{row["wall_s"]:.0f} s')
    return dict(rows=rows, iters=iters, limit_gib=limit_gib,
                threads=threads)


def render_headline(res: dict) -> list:
    """Markdown of the headline section."""
    from .markdown import _table

    def secs(v):
        return '-' if v is None else f'{v:.0f}'

    rows = [(r['setting'], r['status'],
             f'{r["peak_rss"] / 2**30:.1f}',
             secs(r.get('gpu_memory_mib')), secs(r['first_iter_s']),
             secs(r['iter_s']), f'{r["iters_logged"]} / {res["iters"]}')
            for r in res['rows']]
    lines = [
        f'`tools/train.py configs/mafsar_ssv2_5w1s.py` for {res["iters"]} '
        'iterations (random CLIP weights, the synthetic videos resized to '
        f'224 px, {res["threads"]} torch threads, no data workers), each '
        'setting in a fresh process; peak RSS of the process tree polled '
        f'every second, a run stopped when it passes {res["limit_gib"]:g} '
        'GiB. *First iteration*: from the start of the command (imports, '
        'model, data) to the first logged iteration.', ''
    ]
    lines += _table(('setting', 'result', 'peak RSS GiB',
                     'GPU memory MiB', 'first iteration s', 's / iteration',
                     'iterations logged'), rows)
    lines += [
        '', 'The same command on a GPU fills *GPU memory* (MMEngine\'s '
        'peak allocated memory, from the log); a run on a GPU smaller than '
        'the need ends as *failed* (out of memory).'
    ]
    return lines
