"""Find unreadable, empty or too-short videos of an annotation file.

Example::

    python tools/data/check_videos.py data/ssv2_small/train.txt \\
        --video-root /data/ssv2/20bn-something-something-v2 \\
        --workers 8 --out data/ssv2_small/train_clean.txt

Every line is checked whole: the label must be an integer naming a class
of the class-name file (``--class-names``, by default ``classes.txt`` next
to the list when there is one), each video must be listed once, and every
video is opened with decord, its frames counted and a few frames (the last
one included) decoded. Bad lines and files are printed with the part that
is wrong; ``--out`` gets the good lines (each video once).
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
    parser.add_argument('--class-names', default=None,
                        help='class-name file (one name per line, line i '
                        'names label i); labels must be below its line '
                        'count (default: classes.txt next to ann_file if '
                        'it exists)')
    parser.add_argument('--out', default=None,
                        help='write the good lines to this file')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    parser.add_argument('--debug', action='store_true',
                        help='show stack traces of errors')
    return parser.parse_args(argv)


def _class_name_file(args) -> str:
    if args.class_names is not None:
        if not osp.isfile(args.class_names):
            raise FileNotFoundError(
                f'Class-name file not found: {args.class_names}')
        return args.class_names
    guess = osp.join(osp.dirname(osp.abspath(args.ann_file)), 'classes.txt')
    return guess if osp.isfile(guess) else None


def main(argv=None) -> int:
    """Run the check; returns the exit status (0 also with bad videos, 1
    when the list has bad lines or after an error such as a missing list,
    printed as one line)."""
    from mafsar_mm.utils.errors import run_main
    return run_main(lambda: _run(argv), argv)


def _run(argv=None) -> int:
    args = parse_args(argv)
    class_names = _class_name_file(args)
    num_classes = None
    if class_names is not None:
        num_classes = video_check.read_num_classes(class_names)
        print(f'labels checked against {class_names} ({num_classes} '
              'classes)')
    result = video_check.check_annotation(
        args.ann_file,
        video_root=args.video_root,
        min_frames=args.min_frames,
        workers=args.workers,
        out_file=args.out,
        progress=not args.no_progress,
        num_classes=num_classes)
    for lineno, line, reason in result.bad_lines:
        print(f'BAD LINE {lineno} ({line}): {reason}')
    for path, reason in result.bad:
        print(f'BAD {path}: {reason}')
    summary = (f'{result.total} videos checked: {len(result.good_lines)} '
               f'good, {result.total - len(result.good_lines)} bad')
    if result.bad_lines:
        summary += (f' ({len(result.bad_lines)} bad lines, '
                    f'{len(result.bad)} bad videos)')
    print(summary)
    if result.out_file:
        print(f'wrote {len(result.good_lines)} lines to {result.out_file}')
    return 1 if result.bad_lines else 0


if __name__ == '__main__':
    sys.exit(main())
