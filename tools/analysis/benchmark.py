"""Efficiency benchmarks of MA-FSAR (GitHub issue 7): the command line.

One entry point, five measurements and a report::

    python tools/analysis/benchmark.py all --out docs/benchmarks.md
    python tools/analysis/benchmark.py params   --out docs/benchmarks.md
    python tools/analysis/benchmark.py train    --out docs/benchmarks.md
    python tools/analysis/benchmark.py eval     --out docs/benchmarks.md
    python tools/analysis/benchmark.py matchers --out docs/benchmarks.md
    python tools/analysis/benchmark.py data     --out docs/benchmarks.md
    python tools/analysis/benchmark.py test_memory --out docs/benchmarks.md
    python tools/analysis/benchmark.py report   --out docs/benchmarks.md
    python tools/analysis/benchmark.py all --quick --out /tmp/bench.md

* ``params``: total / tunable parameters of MA-FSAR (ViT-B/32, ViT-B/16),
  full fine-tuning, frozen CLIP + TPCM, CLIP-FSAR, TRX and OTAM, next to
  the paper's Table 4.
* ``train``: peak memory and time of one training step (forward,
  backward, AdamW) of MA-FSAR, its efficiency levers, full fine-tuning
  and a frozen tower; every variant runs in its own process, rounds of
  all variants are interleaved.
* ``eval``: episodes per second of the plain test path and of the
  per-video feature cache, with identical predictions.
* ``matchers``: time of OTAM, Bi-MHM, TRX and Proto on a 5-way 5-shot
  episode against the time of MA-FSAR's whole forward pass.
* ``data``: videos per second through the video pipelines with 0, 1 and 2
  loader workers against the model's training rate.
* ``test_memory``: peak RSS of ``tools/test.py`` at 1e3 and 1e4 test
  episodes, and the memory ``FewShotAccuracy`` holds after 1e3 and 1e6
  episodes (memory must not grow with the episode count).
* ``headline``: peak memory, time to the first iteration and time per
  iteration of ``tools/train.py configs/mafsar_ssv2_5w1s.py`` for each
  gradient-checkpointing setting (a run over 16 GiB is stopped there).
* ``report``: only re-render the report from the stored results.

Every sub-command stores its raw results in a JSON file next to the report
(``--results``, default: ``--out`` with ``.json``) and re-renders the
whole report from it, so sections can be refreshed one at a time. The
measurements live in ``tools/analysis/benchmarks/`` (one module per
section); all models are built from ``configs/_base_/models`` with random
weights (``pretrained=None``): nothing is downloaded.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import shlex
import sys
import tempfile
import time
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
for path in (ROOT, osp.dirname(osp.abspath(__file__))):
    if path not in sys.path:
        sys.path.insert(0, path)

from benchmarks.common import (RESULT_TAG, RUN_ORDER, SECTIONS,  # noqa: E402
                               _import_package, machine_info)
from benchmarks.data import run_data  # noqa: E402
from benchmarks.evaluation import run_eval  # noqa: E402
from benchmarks.matchers import run_matchers  # noqa: E402
from benchmarks.params import run_params  # noqa: E402
from benchmarks.report import render_report  # noqa: E402
from benchmarks.headline import run_headline  # noqa: E402
from benchmarks.test_memory import run_test_memory  # noqa: E402
from benchmarks.train import run_train, summarize_train  # noqa: E402
from benchmarks.train_variants import TRAIN_VARIANTS  # noqa: E402
from benchmarks.train_worker import train_worker  # noqa: E402


def _settings(quick: bool) -> dict:
    """Sizes of every section (full run or ``--quick`` smoke run)."""
    if quick:
        return dict(
            archs=('tiny', ),
            extra_archs={},
            train_arch='tiny',
            train_size=64,
            train_frames=4,
            rounds=1,
            warmup=0,
            steps=1,
            variants=('full_ft', 'frozen', 'mafsar', 'mafsar_cp'),
            profile=('mafsar', ),
            plain_episodes=3,
            cached_episodes=(3, 6),
            matcher_dims=64,
            matcher_reps=3,
            episode_arch='tiny',
            episode_reps=1,
            data_episodes=2,
            test_memory_episodes=(20, 200),
            headline_iters=1,
            metric_episodes=(100, 1000),
            workers=(0, 1),
            tiny_steps=1)
    return dict(
        archs=('ViT-B-32', ),
        extra_archs=dict(
            mafsar=('ViT-B-16', ),
            clip_fsar=('ViT-B-16', ),
            full_ft=('ViT-B-16', )),
        train_arch='ViT-B-32',
        train_size=224,
        train_frames=8,
        rounds=3,
        warmup=1,
        steps=1,
        variants=tuple(TRAIN_VARIANTS),
        profile=('full_ft', 'mafsar'),
        plain_episodes=200,
        cached_episodes=(200, 500, 10000),
        matcher_dims=512,
        matcher_reps=50,
        episode_arch='ViT-B-32',
        episode_reps=3,
        data_episodes=30,
        test_memory_episodes=(1000, 10000),
        headline_iters=2,
        metric_episodes=(1000, 1000000),
        workers=(0, 1, 2),
        tiny_steps=5)


def _ensure_synthetic(data_root: Optional[str], quick: bool) -> str:
    """The synthetic dataset root; a small one is made for ``--quick``."""
    if data_root and osp.isfile(osp.join(data_root, 'meta.json')):
        return data_root
    if data_root is None and not quick:
        default = osp.join(ROOT, 'data', 'synthetic')
        if osp.isfile(osp.join(default, 'meta.json')):
            return default
    from mafsar_mm.datasets.synthetic import make_synthetic_dataset
    root = data_root or osp.join(tempfile.gettempdir(),
                                 'mafsar_benchmark_synthetic')
    if not osp.isfile(osp.join(root, 'meta.json')):
        print(f'[data] writing a synthetic dataset to {root}')
        make_synthetic_dataset(
            root,
            videos_per_class=4 if quick else 20,
            num_frames=16,
            size=96,
            seed=0,
            workers=1)
    return root


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Efficiency benchmarks of MA-FSAR (issue 7)')
    parser.add_argument(
        'command',
        choices=SECTIONS + ('all', 'report'),
        help='a section, all of them, or `report` (only '
        're-render the report from the stored results)')
    parser.add_argument(
        '--out',
        default=osp.join('docs', 'benchmarks.md'),
        help='markdown report to (re)write')
    parser.add_argument(
        '--results',
        default=None,
        help='JSON with the raw results (default: --out '
        'with .json)')
    parser.add_argument(
        '--quick', action='store_true', help='tiny sizes, for smoke tests')
    parser.add_argument(
        '--data-root',
        default=None,
        help='synthetic dataset (default: data/synthetic, '
        'made in a temp dir when missing)')
    parser.add_argument(
        '--variants',
        nargs='+',
        default=None,
        choices=list(TRAIN_VARIANTS),
        help='training variants (default: all)')
    parser.add_argument(
        '--rounds',
        type=int,
        default=None,
        help='training rounds (processes per variant)')
    parser.add_argument(
        '--fresh',
        action='store_true',
        help='`train`: ignore the workers of an interrupted run stored in '
        'the results file (default: reuse them when the settings match)')
    parser.add_argument(
        '--no-profile',
        action='store_true',
        help='skip the torch.profiler runs of `train`')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads (the training variants set '
        'their own, default 1)')
    parser.add_argument(
        '--recommended',
        default=None,
        choices=list(TRAIN_VARIANTS),
        help='MA-FSAR variant quoted in the summary next '
        'to the default')
    return parser.parse_args(argv)


def _worker_main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--variant', required=True)
    parser.add_argument('--arch', required=True)
    parser.add_argument('--size', type=int, required=True)
    parser.add_argument('--num-frames', type=int, required=True)
    parser.add_argument('--warmup', type=int, required=True)
    parser.add_argument('--steps', type=int, required=True)
    parser.add_argument('--profile', type=int, default=0)
    parser.add_argument('--count-saved', action='store_true')
    args = parser.parse_args(argv)
    res = train_worker(args.variant, args.arch, args.size, args.num_frames,
                       args.warmup, args.steps, args.profile, args.count_saved)
    print(RESULT_TAG + json.dumps(res))


def main(argv: Optional[List[str]] = None) -> dict:
    """Run a sub-command, store its results and rewrite the report.

    Args:
        argv (list[str], optional): Arguments (default: ``sys.argv``).

    Returns:
        dict: All stored results.
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == '_train-worker':
        _worker_main(argv[1:])
        return {}
    args = parse_args(argv)
    _import_package()
    import torch
    torch.set_num_threads(args.threads)
    cfg = _settings(args.quick)
    results_file = args.results or osp.splitext(args.out)[0] + '.json'
    results = {}
    if osp.isfile(results_file):
        with open(results_file) as f:
            results = json.load(f)
        if results.get('quick', False) != args.quick:
            results = {}  # never mix quick and full numbers
    results['quick'] = args.quick
    results['results_file'] = osp.relpath(results_file, ROOT) \
        if osp.isabs(results_file) else results_file
    if args.command != 'report' or 'machine' not in results:
        # `report` keeps the machine the stored numbers were measured on
        results['machine'] = machine_info()
    results.setdefault('section_machine', {})
    todo = {'all': RUN_ORDER, 'report': ()}.get(args.command, (args.command, ))
    if args.recommended and 'train' in results:
        results['train']['recommended'] = args.recommended

    def save() -> None:
        os.makedirs(osp.dirname(osp.abspath(results_file)), exist_ok=True)
        with open(results_file, 'w') as f:
            json.dump(results, f, indent=1)
        command = ' '.join([
            'python tools/analysis/benchmark.py', 'all', '--out',
            shlex.quote(args.out)
        ] + (['--quick'] if args.quick else []))
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(render_report(results, command))

    for name in todo:
        results['section_machine'][name] = dict(
            date=datetime.datetime.now().isoformat(timespec='seconds'),
            load_average=list(os.getloadavg()))
        t0 = time.perf_counter()
        if name == 'params':
            results['params'] = run_params(cfg['archs'], cfg['extra_archs'])
        elif name == 'train':
            variants = args.variants or cfg['variants']

            def checkpoint(state: dict) -> None:
                results['train_partial'] = state
                save()

            train = run_train(
                variants,
                cfg['train_arch'],
                cfg['train_size'],
                cfg['train_frames'],
                args.rounds or cfg['rounds'],
                cfg['warmup'],
                cfg['steps'], () if args.no_profile else cfg['profile'],
                state=None if args.fresh else results.get('train_partial'),
                checkpoint=checkpoint)
            results.pop('train_partial', None)
            previous = results.get('train', {})
            train['recommended'] = args.recommended or previous.get(
                'recommended', 'mafsar')
            if previous.get('notes'):
                train['notes'] = previous['notes']
            results['train'] = train
        elif name == 'eval':
            root = _ensure_synthetic(args.data_root, args.quick)
            results['eval'] = run_eval(root, cfg['plain_episodes'],
                                       cfg['cached_episodes'])
        elif name == 'matchers':
            results['matchers'] = run_matchers(cfg['matcher_dims'], 8, 5, 5, 5,
                                               cfg['matcher_reps'],
                                               cfg['episode_arch'],
                                               cfg['episode_reps'])
        elif name == 'data':
            root = _ensure_synthetic(args.data_root, args.quick)
            summ = (
                summarize_train(results['train'])
                if 'train' in results else None)
            results['data'] = run_data(root, cfg['data_episodes'],
                                       cfg['workers'], cfg['tiny_steps'], summ)
        elif name == 'test_memory':
            root = _ensure_synthetic(args.data_root, args.quick)
            results['test_memory'] = run_test_memory(
                root, cfg['test_memory_episodes'], cfg['metric_episodes'])
        elif name == 'headline':
            root = _ensure_synthetic(args.data_root, args.quick)
            results['headline'] = run_headline(root,
                                               iters=cfg['headline_iters'])
        results['section_machine'][name]['seconds'] = \
            time.perf_counter() - t0
        save()
        print(f'[{name}] done in {time.perf_counter() - t0:.0f} s; '
              f'wrote {args.out}')
    if not todo:
        save()
    return results


if __name__ == '__main__':
    main()
