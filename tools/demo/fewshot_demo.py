"""Few-shot recognition of your own videos with a trained model.

Give a few labelled videos per class (the support set), or only class
names (zero-shot), and some query videos; every query gets the classes
ranked by score. Examples::

    # support: one sub-folder per class (the folder name is the class)
    python tools/demo/fewshot_demo.py --config CONFIG --checkpoint CKPT \\
        --support my_support/ --query q1.mp4 q2.mp4
    # support: a list file of `<video path><TAB><class name>` lines
    python tools/demo/fewshot_demo.py --config CONFIG --checkpoint CKPT \\
        --support support.txt --query q1.mp4 --topk 3 --out results.json
    # zero-shot: no support videos, classes from their names alone
    python tools/demo/fewshot_demo.py --config CONFIG --checkpoint CKPT \
        --classes 'playing guitar' 'juggling balls' --query q1.mp4
"""
import argparse
import json
import sys


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Rank the support classes for each query video.')
    parser.add_argument('--config', required=True, help='model config')
    parser.add_argument('--checkpoint', help='trained checkpoint')
    parser.add_argument(
        '--clip-weights',
        metavar='PATH',
        help='local CLIP weights file for every CLIP of the model (needed '
        'with slim checkpoints when the config names a tag, e.g. openai, '
        'and the machine is offline)')
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        '--support',
        help='directory with one sub-folder of videos per class, or a list '
        'file of `<video path><TAB><class name>` lines')
    group.add_argument(
        '--classes',
        nargs='+',
        help='zero-shot: class names to recognise without support videos '
        '(scored against the class texts alone)')
    parser.add_argument(
        '--query', required=True, nargs='+', help='query video(s)')
    parser.add_argument(
        '--device', default='cpu', help='torch device (default: cpu)')
    parser.add_argument(
        '--topk',
        type=int,
        default=5,
        help='classes to print per query (default: 5)')
    parser.add_argument('--out', help='write all results as JSON here')
    parser.add_argument(
        '--debug', action='store_true', help='show stack traces of errors')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the demo; a user error (missing or bad file, bad video,
    unusable checkpoint) is printed as one line and gives status 1 (see
    :func:`mafsar_mm.utils.errors.run_main`)."""
    from mafsar_mm.utils.errors import run_main
    return run_main(lambda: _run(argv), argv)


def _run(argv=None) -> int:
    args = parse_args(argv)
    if args.topk < 1:
        print('error: --topk must be >= 1', file=sys.stderr)
        return 2
    from mafsar_mm.apis import FewShotInferencer
    from mafsar_mm.utils.errors import InputError
    if args.classes:  # before the model is built
        from mafsar_mm.apis.support_checks import check_class_names
        check_class_names(args.classes)
    if args.out:
        from mafsar_mm.utils.output_paths import check_output_path
        inputs = {f'query video {q}': q for q in args.query}
        inputs.update(checkpoint=args.checkpoint, config=args.config,
                      support=args.support)
        check_output_path(args.out, '--out', inputs)
    from mmengine.config import Config

    from mafsar_mm.models.clip.clip_config import (
        check_config_clip_weights, set_clip_weights)
    config = Config.fromfile(args.config)
    if args.clip_weights is not None:
        set_clip_weights(config, args.clip_weights)
    check_config_clip_weights(config)  # before the model is built
    try:
        inferencer = FewShotInferencer(
            config,
            args.checkpoint,
            device=args.device,
            support=args.support,
            zero_shot_classes=args.classes)
        results = inferencer(args.query, show=True, topk=args.topk)
    except ValueError as err:  # the inferencer's checks of the inputs
        if isinstance(err, InputError):
            raise
        raise InputError(str(err)) from err
    if args.out:
        from mafsar_mm.utils.atomic_files import atomic_write
        atomic_write(
            json.dumps(results['predictions'], indent=2), args.out)
        print(f'Results written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
