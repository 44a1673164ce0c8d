"""Generate a synthetic few-shot video dataset, in one of two flavours.

Examples::

    python tools/data/make_synthetic.py --out data/synthetic
    python tools/data/make_synthetic.py --flavour temporal \
        --out data/synthetic_temporal

``spatial`` (default, like Kinetics/UCF101/HMDB51): classes are shapes of a
colour doing a motion ("moving a red circle from left to right", "a blue
square shrinking", ...). ``temporal`` (like SSv2): shape, colour, size,
background, speed and position are drawn independently for every video and
only the motion names the class ("moving something from left to right",
"covering something", ...). In both, most classes come in pairs that differ
only in the direction of time, and splits are disjoint by class. If a
complete dataset already exists in ``--out`` nothing is done (``--force``
regenerates it), so scripts can call this every time.
"""
import argparse
import importlib.util
import os.path as osp
import sys
import time

from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                           TextColumn, TimeRemainingColumn)


def load_synthetic():
    """The generator package, imported without importing ``mafsar_mm``.

    Loading it by path keeps the check for an existing dataset fast
    (``import mafsar_mm`` imports torch and MMAction2). Falls back to the
    installed package when the files are not next to this script.
    """
    repo = osp.join(osp.dirname(osp.realpath(__file__)), '..', '..')
    path = osp.join(repo, 'mafsar_mm', 'datasets', 'synthetic',
                    '__init__.py')
    if osp.isfile(path):
        name = '_mafsar_mm_synthetic'
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[osp.dirname(path)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    from mafsar_mm.datasets import synthetic
    return synthetic


def load_errors():
    """:mod:`mafsar_mm.utils.errors` (one-line error reports), loaded by
    path like :func:`load_synthetic` (it imports only the standard
    library)."""
    repo = osp.join(osp.dirname(osp.realpath(__file__)), '..', '..')
    path = osp.join(repo, 'mafsar_mm', 'utils', 'errors.py')
    if not osp.isfile(path):
        from mafsar_mm.utils import errors
        return errors
    spec = importlib.util.spec_from_file_location('_mafsar_mm_errors', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None):
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Generate the synthetic temporal few-shot dataset '
        '(classes.txt, train/val/test.txt, videos/, meta.json).')
    parser.add_argument('--flavour', default='spatial',
                        choices=('spatial', 'temporal'),
                        help='spatial: appearance and motion name a class; '
                        'temporal: only the motion does, SSv2-like '
                        '(default: spatial)')
    parser.add_argument('--style', default='blobs',
                        help='background family of the videos: blobs (the '
                        'original look) or one of the tiny CLIP corpus '
                        "families; 'checkers' is left out of its "
                        'pretraining (an unseen look; default: blobs)')
    parser.add_argument('--out', default=None,
                        help='output directory (default: data/synthetic '
                        'for spatial, data/synthetic_temporal for '
                        'temporal, with _STYLE appended for another '
                        '--style)')
    parser.add_argument('--videos-per-class', type=int, default=20,
                        help='videos per class (default: 20)')
    parser.add_argument('--frames', type=int, default=16,
                        help='frames per video (default: 16)')
    parser.add_argument('--size', type=int, default=96,
                        help='frame width and height (default: 96)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed (default: 0)')
    parser.add_argument('--workers', type=int, default=2,
                        help='worker processes (default: 2)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if the dataset is complete')
    parser.add_argument('--list-classes', action='store_true',
                        help='print the classes with split and pair, then '
                        'exit')
    parser.add_argument('--debug', action='store_true',
                        help='show stack traces of errors')
    return parser.parse_args(argv)


def main(argv=None):
    """Run the command line tool."""
    args = parse_args(argv)
    if args.out is None:
        args.out = ('data/synthetic' if args.flavour == 'spatial' else
                    'data/synthetic_temporal')
        if args.style != 'blobs':
            args.out += f'_{args.style}'
    synthetic = load_synthetic()
    if args.list_classes:
        print(synthetic.summarize_classes(flavour=args.flavour))
        return 0
    try:
        synthetic.check_settings(args.videos_per_class, args.frames,
                                 args.size)
        synthetic.check_style(args.style)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if not args.force and synthetic.is_dataset_complete(args.out):
        print(f'{args.out} already holds a complete synthetic dataset; '
              'skipping (use --force to regenerate).')
        meta = synthetic.load_meta(args.out)
        if not synthetic.dataset_matches(args.out, args.videos_per_class,
                                         args.frames, args.size, args.seed,
                                         args.flavour, args.style):
            print('note: it was generated with different settings '
                  f"(flavour={meta.get('flavour', 'spatial')}, "
                  f"style={meta.get('style', 'blobs')}, "
                  f"videos_per_class={meta['videos_per_class']}, "
                  f"frames={meta['num_frames']}, size={meta['size']}, "
                  f"seed={meta['seed']}).")
        # the other class splits' lists (cheap; older datasets lack them)
        synthetic.write_class_split_lists(
            args.out, meta.get('flavour', 'spatial'))
        return 0
    # Clear what a forced or interrupted earlier run left behind.
    synthetic.remove_dataset(args.out)
    start = time.time()
    total = args.videos_per_class * len(
        synthetic.get_class_specs(args.flavour))
    with Progress(TextColumn('rendering'), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task('videos', total=total)
        summary = synthetic.make_synthetic_dataset(
            args.out,
            videos_per_class=args.videos_per_class,
            num_frames=args.frames,
            size=args.size,
            seed=args.seed,
            workers=args.workers,
            flavour=args.flavour,
            progress=lambda n: bar.advance(task, n),
            style=args.style)
    print(f"wrote {summary['num_videos']} {args.flavour} videos "
          f"({args.style} backgrounds) of {summary['num_classes']} classes "
          f'to {args.out} in {time.time() - start:.1f} s')
    for split in ('train', 'val', 'test'):
        print(f"  {split}: {summary['classes_per_split'][split]} classes, "
              f"{summary['videos_per_split'][split]} videos, "
              f"{summary['pairs_per_split'][split]} temporal pairs")
    return 0


if __name__ == '__main__':
    sys.exit(load_errors().run_main(main))
