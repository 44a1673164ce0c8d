"""Section 2: interleaved rounds of training-step workers (one process
each) and their summary."""
import json
import os
import subprocess
import sys
from typing import Callable, List, Optional, Sequence

from .common import CLI, RESULT_TAG, ROOT, median
from .train_variants import LIVE_MEMORY_ENV, TRAIN_VARIANTS


def _spawn_worker(args: List[str],
                  env: Optional[dict] = None,
                  attempts: int = 3) -> dict:
    """Run ``tools/analysis/benchmark.py _train-worker ...`` in a fresh
    process (with extra environment variables ``env``) and parse its
    result.

    A worker killed by a signal (e.g. by someone else on a shared machine)
    is started again, up to ``attempts`` times; an error exit raises.
    """
    cmd = [sys.executable, CLI, '_train-worker'] + args
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = ROOT + os.pathsep + full_env.get('PYTHONPATH', '')
    full_env.update(env or {})
    for attempt in range(attempts):
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=full_env)
        for line in proc.stdout.splitlines()[::-1]:
            if line.startswith(RESULT_TAG):
                return json.loads(line[len(RESULT_TAG):])
        if proc.returncode >= 0:
            break
        print(f'[train] worker {args[:2]} killed by signal '
              f'{-proc.returncode}; attempt {attempt + 2}/{attempts}')
    raise RuntimeError(f'worker {args} failed (exit {proc.returncode}):\n'
                       f'{proc.stderr[-3000:]}')


def run_train(variants: Sequence[str],
              arch: str,
              size: int,
              num_frames: int,
              rounds: int,
              warmup: int,
              steps: int,
              profile_variants: Sequence[str] = (),
              profile_top: int = 12,
              state: Optional[dict] = None,
              checkpoint: Optional[Callable] = None,
              log: Callable = print) -> dict:
    """Interleaved rounds of training-step workers, one process each.

    Round ``r`` runs every variant once, in an order rotated by ``r``, so
    slow phases of the shared machine hit all variants alike. A last,
    untimed round measures live memory: glibc malloc with a fixed mmap
    threshold of 128 KiB (:data:`LIVE_MEMORY_ENV`) maps every tensor of
    that size on its own and unmaps it when freed, so the peak RSS is the
    peak of the live tensors (the CPU analogue of
    ``torch.cuda.max_memory_allocated``); that round also counts the
    activations saved for backward.

    Args:
        variants (Sequence[str]): Keys of :data:`TRAIN_VARIANTS`.
        arch (str): CLIP architecture.
        size (int): Frame size.
        num_frames (int): Frames per video.
        rounds (int): Rounds (processes per variant).
        warmup (int): Untimed steps per process.
        steps (int): Timed steps per process.
        profile_variants (Sequence[str]): Variants profiled in one extra
            process each. Defaults to ().
        profile_top (int): Top ops kept per profile. Defaults to 12.
        state (dict, optional): The returned dict of an interrupted run
            with the same settings: finished workers are not run again.
            Defaults to None.
        checkpoint (callable, optional): Called with the state after every
            worker (to store it). Defaults to None.
        log (callable): Progress printer. Defaults to print.

    Returns:
        dict: ``runs`` (variant -> list of worker results), ``live``
        (variant -> live-memory worker result), ``profiles`` and the
        settings.
    """
    settings = dict(
        arch=arch,
        size=size,
        num_frames=num_frames,
        rounds=rounds,
        warmup=warmup,
        steps=steps,
        episode='5-way 1-shot, 1 query per class: 10 videos')
    if not state or any(state.get(k) != v for k, v in settings.items()):
        state = dict(settings, runs={}, live={}, profiles={})
    runs, live, profiles = state['runs'], state['live'], state['profiles']
    for variant in variants:
        runs.setdefault(variant, [])
    common = [
        '--arch', arch, '--size',
        str(size), '--num-frames',
        str(num_frames), '--warmup',
        str(warmup), '--steps',
        str(steps)
    ]
    variants = list(variants)
    for rnd in range(rounds + 1):
        shift = rnd % len(variants)
        memory_round = rnd == rounds
        for variant in variants[shift:] + variants[:shift]:
            done = (
                variant in live if memory_round else len(runs[variant]) > rnd)
            if done:  # finished before an interruption
                continue
            env = dict(TRAIN_VARIANTS[variant][2].get('env') or {})
            args = ['--variant', variant] + common
            if memory_round:
                env.update(LIVE_MEMORY_ENV)
                args += ['--count-saved']
            res = _spawn_worker(args, env)
            if memory_round:
                live[variant] = res
            else:
                runs[variant].append(res)
            if checkpoint is not None:
                checkpoint(state)
            log(f'[train] {"memory round" if memory_round else "round"} '
                f'{rnd + 1}/{rounds + 1} {variant}: '
                f'{median([s["wall"] for s in res["steps"]]):.2f} s/step, '
                f'peak {res["peak"] / 2**30:.2f} GiB, load '
                f'{res["load_average"][0]:.1f}')
    for variant in profile_variants:
        if variant in profiles:
            continue
        res = _spawn_worker(
            ['--variant', variant, '--profile',
             str(profile_top)] + common[:-4] +
            ['--warmup', '1', '--steps', '0'],
            TRAIN_VARIANTS[variant][2].get('env'))
        profiles[variant] = res['profile']
        if checkpoint is not None:
            checkpoint(state)
        log(f'[train] profiled {variant}')
    # only the requested variants (a resumed state may hold more)
    return dict(state, runs={v: runs[v] for v in variants})


def summarize_train(train: dict) -> dict:
    """Medians per variant and ratios to full fine-tuning."""
    out = {}
    for variant, runs in train['runs'].items():
        steps = [s for r in runs for s in r['steps']]
        out[variant] = dict(
            wall=median(s['wall'] for s in steps),
            cpu=median(s['cpu'] for s in steps),
            forward=median(s['forward'] for s in steps),
            backward=median(s['backward'] for s in steps),
            optimizer=median(s['optimizer'] for s in steps),
            peak=median(r['peak'] for r in runs),
            peak_over_build=median(r['peak_over_build'] for r in runs),
            static=runs[0]['static'],
            saved=(train.get('live', {}).get(variant) or {}).get('saved'),
            live=(train.get('live', {}).get(variant) or {}).get('peak'),
            n_steps=len(steps),
            load=median(r['load_average'][0] for r in runs))
    ref = out.get('full_ft')
    if ref:
        for row in out.values():
            row['time_ratio'] = row['wall'] / ref['wall']
            row['cpu_ratio'] = row['cpu'] / ref['cpu']
            row['memory_ratio'] = row['peak'] / ref['peak']
            if row['live'] is not None and ref['live']:
                row['live_ratio'] = row['live'] / ref['live']
    return out
