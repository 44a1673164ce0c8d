"""Find unreadable, empty or too-short videos of an annotation file.

Example::

    python tools/data/check_videos.py data/ssv2_small/train.txt \\
        --video-root /data/ssv2/20bn-something-something-v2 \\
        --workers 8 --out data/ssv2_small/train_clean.txt

Every video is opened with decord, its frames counted and a few frames
(the last one included) decoded. Bad files are printed with the reason;
``--out`` gets the annotation lines of the good ones.
"""
import argparse
import os.path as osp
import sys

try:
    from mafsar_mm.datasets import video_check
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..',
                                '..'))
    from mafsar_mm.datasets import video_check


def parse_args(argv=None):
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Decode every video of an MMAction2 annotation file '
        '(`<path> <label>` lines) and report the unusable ones.')
    parser.add_argument('ann_file', help='annotation file to check')
    parser.add_argument('--video-root', default='',
                        help='prefix of the relative paths (default: none)')
    parser.add_argument('--min-frames', type=int, default=8,
                        help='fewest frames a video needs (default: 8)')
    parser.add_argument('--workers', type=int, default=0,
                        help='worker processes (default: 0 = one per CPU)')
    parser.add_argument('--out', default=None,
                        help='write the good lines to this file')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the check; returns the exit status (0 also with bad videos)."""
    args = parse_args(argv)
    result = video_check.check_annotation(
        args.ann_file,
        video_root=args.video_root,
        min_frames=args.min_frames,
        workers=args.workers,
        out_file=args.out,
        progress=not args.no_progress)
    for path, reason in result.bad:
        print(f'BAD {path}: {reason}')
    print(f'{result.total} videos checked: {len(result.good_lines)} good, '
          f'{len(result.bad)} bad')
    if result.out_file:
        print(f'wrote {len(result.good_lines)} lines to {result.out_file}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
