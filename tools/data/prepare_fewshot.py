"""Write few-shot dataset files for a benchmark from a folder of videos.

Example::

    python tools/data/prepare_fewshot.py ssv2_small \\
        --video-root /data/ssv2/20bn-something-something-v2 \\
        --out data/ssv2_small --check --workers 8

writes ``classes.txt`` and ``{train,val,test}.txt`` (``<path relative to
--video-root> <label>``) to ``--out``, lists the videos it could not find
in ``missing.txt`` and, with ``--check``, the ones that do not decode in
``bad_videos.txt``. See data/README.md for each benchmark's layout.
"""
import argparse
import functools
import os.path as osp
import sys

try:
    from mafsar_mm.datasets import fewshot_splits, video_check
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..',
                                '..'))
    from mafsar_mm.datasets import fewshot_splits, video_check


def parse_args(argv=None):
    """Command-line arguments."""
    layouts = '\n'.join(f'  {name}: {info.layout}'
                        for name, info in fewshot_splits.BENCHMARKS.items())
    parser = argparse.ArgumentParser(
        description='Turn a benchmark\'s public few-shot split lists and a '
        'folder of raw videos into classes.txt + train/val/test.txt.',
        epilog='Expected layouts (files are found by id anywhere under '
        '--video-root):\n' + layouts,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'benchmark',
        help='split folder name: ' +
        ', '.join(fewshot_splits.BENCHMARKS) + ' (or any folder under '
        '--splits-dir with train/val/test.txt)')
    parser.add_argument('--video-root', required=True,
                        help='folder holding the raw videos')
    parser.add_argument('--out', required=True,
                        help='output folder for the dataset files')
    parser.add_argument('--splits-dir', default=None,
                        help='folder of split folders (default: the '
                        'repository\'s data/splits)')
    parser.add_argument('--ext', default='auto',
                        help='only use files with this extension, e.g. '
                        '.mp4, .webm or .avi (default: auto, any video '
                        'file, the benchmark\'s usual one preferred)')
    parser.add_argument('--check', action='store_true',
                        help='decode every found video and leave out '
                        'unreadable, empty or too-short ones')
    parser.add_argument('--min-frames', type=int, default=8,
                        help='fewest frames a video needs with --check '
                        '(default: 8)')
    parser.add_argument('--workers', type=int, default=0,
                        help='processes for --check (default: 0 = one per '
                        'CPU)')
    parser.add_argument('--min-videos', type=int,
                        default=fewshot_splits.MIN_VIDEOS_5SHOT,
                        help='warn for classes with fewer videos (default: '
                        '6 = 5 support + 1 query of a 5-shot episode)')
    parser.add_argument('--debug', action='store_true',
                        help='show stack traces of errors')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the conversion; returns the exit status."""
    args = parse_args(argv)
    checker = None
    if args.check:
        checker = functools.partial(video_check.check_paths,
                                    min_frames=args.min_frames,
                                    workers=args.workers)
    result = fewshot_splits.prepare_fewshot(
        args.benchmark,
        args.video_root,
        args.out,
        splits_dir=args.splits_dir,
        ext=args.ext,
        checker=checker,
        min_videos=args.min_videos)
    if result.num_videos == 0:
        print(f'ERROR: none of the listed videos was found under '
              f'{args.video_root}; see data/README.md for the expected '
              'layout.', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    from mafsar_mm.utils.errors import run_main
    sys.exit(run_main(main))
