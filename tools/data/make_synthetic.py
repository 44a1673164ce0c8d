"""Generate the synthetic temporal few-shot dataset.

Example::

    python tools/data/make_synthetic.py --out data/synthetic

Classes are shapes of a colour doing a motion ("moving a red circle from
left to right", "a blue square shrinking", ...); most come in pairs that
differ only in the direction of time. Splits are disjoint by class. If a
complete dataset already exists in ``--out`` nothing is done (``--force``
regenerates it), so scripts can call this every time.
"""
import argparse
import importlib.util
import os.path as osp
import sys
import time


def load_synthetic():
    """The generator module, imported without importing the package.

    Loading the file directly keeps the check for an existing dataset fast
    (``import mafsar_mm`` imports torch and MMAction2). Falls back to the
    installed package when the file is not next to this script.
    """
    repo = osp.join(osp.dirname(osp.realpath(__file__)), '..', '..')
    path = osp.join(repo, 'mafsar_mm', 'datasets', 'synthetic.py')
    if osp.isfile(path):
        spec = importlib.util.spec_from_file_location(
            '_mafsar_mm_synthetic', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    from mafsar_mm.datasets import synthetic
    return synthetic


def parse_args(argv=None):
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Generate the synthetic temporal few-shot dataset '
        '(classes.txt, train/val/test.txt, videos/, meta.json).')
    parser.add_argument('--out', default='data/synthetic',
                        help='output directory (default: data/synthetic)')
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
    return parser.parse_args(argv)


def main(argv=None):
    """Run the command line tool."""
    args = parse_args(argv)
    synthetic = load_synthetic()
    if args.list_classes:
        print(synthetic.summarize_classes())
        return 0
    try:
        synthetic.check_settings(args.videos_per_class, args.frames,
                                 args.size)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if not args.force and synthetic.is_dataset_complete(args.out):
        print(f'{args.out} already holds a complete synthetic dataset; '
              'skipping (use --force to regenerate).')
        if not synthetic.dataset_matches(args.out, args.videos_per_class,
                                         args.frames, args.size, args.seed):
            meta = synthetic.load_meta(args.out)
            print('note: it was generated with different settings '
                  f"(videos_per_class={meta['videos_per_class']}, "
                  f"frames={meta['num_frames']}, size={meta['size']}, "
                  f"seed={meta['seed']}).")
        return 0
    # Clear what a forced or interrupted earlier run left behind.
    synthetic.remove_dataset(args.out)
    start = time.time()
    summary = synthetic.make_synthetic_dataset(
        args.out,
        videos_per_class=args.videos_per_class,
        num_frames=args.frames,
        size=args.size,
        seed=args.seed,
        workers=args.workers)
    print(f"wrote {summary['num_videos']} videos of "
          f"{summary['num_classes']} classes to {args.out} in "
          f'{time.time() - start:.1f} s')
    for split in ('train', 'val', 'test'):
        print(f"  {split}: {summary['classes_per_split'][split]} classes, "
              f"{summary['videos_per_split'][split]} videos, "
              f"{summary['pairs_per_split'][split]} temporal pairs")
    return 0


if __name__ == '__main__':
    sys.exit(main())
