"""Test a few-shot recognizer (MMAction2's ``tools/test.py`` layout).

Prints the mean accuracy over the test episodes with its 95% confidence
interval. As in MMAction2 1.x, ``--dump`` writes the predictions (a pickle
of the episodes' data samples, through MMEngine's ``DumpResults``, here
``AtomicDumpResults``); ``--dump-metrics`` writes the metrics as JSON.
Both are written atomically. Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --dump preds.pkl \
        --dump-metrics metrics.json
    torchrun --nproc_per_node=2 tools/test.py CONFIG CKPT --launcher pytorch
    bash tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

#: warnings of the first import of mafsar_mm (see ``__main__``)
IMPORT_WARNINGS = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a few-shot model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--num-episodes',
        type=int,
        default=None,
        help='number of test episodes (overrides the config)')
    parser.add_argument(
        '--dump',
        type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--dump-metrics',
        type=str,
        help='write the metrics (accuracy, 95%% CI, episodes) as JSON to '
        'this file')
    parser.add_argument(
        '--clip-weights',
        metavar='PATH',
        help='local CLIP weights file for every CLIP of the model (visual '
        'backbone and text encoder); checked before anything is built')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='run the encoder under automatic mixed precision')
    parser.add_argument(
        '--text-only',
        action='store_true',
        help='zero-shot: score the queries against the class names alone '
        '(same as --cfg-options model.head.predict_mode=text); support '
        'videos are not encoded')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.head.alpha=0.3')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='stop on videos listed more than once in the annotation file')
    parser.add_argument(
        '--debug', action='store_true', help='show stack traces of errors')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='also print the environment, the config, the hook order and '
        'warnings on the console (always in the log file)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    from mafsar_mm.utils.console import build_runner, setup_console
    setup_console(args.verbose, IMPORT_WARNINGS)  # for the log file
    cfg = Config.fromfile(args.config)
    from mafsar_mm.models.clip.clip_config import (
        check_config_clip_weights, merge_cfg_options, set_clip_weights)
    merge_cfg_options(cfg, args.cfg_options)  # clip.* reaches the model
    if args.clip_weights is not None:
        set_clip_weights(cfg, args.clip_weights)
    if args.text_only:
        if cfg.model.get('text_encoder') is None:
            sys.exit('--text-only scores the queries against the class '
                     'names, but this config has no model.text_encoder.')
        cfg.model.head.predict_mode = 'text'
    if args.num_episodes is not None:
        cfg.test_dataloader.dataset.num_episodes = args.num_episodes
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    from mafsar_mm.utils.config_checks import check_config
    from mafsar_mm.utils.dist import (dist_timeout_reported,
                                      setup_multi_process)
    check_config(cfg)  # a wrong type or key: one line, before any work
    # before any work: an output must not destroy an input or a checkpoint
    from mafsar_mm.utils.output_paths import check_output_path
    inputs = dict(checkpoint=args.checkpoint, config=args.config)
    for option, path in (('--dump', args.dump),
                         ('--dump-metrics', args.dump_metrics)):
        if path is not None:
            check_output_path(path, option, inputs)
    if args.strict:
        from mafsar_mm.utils.strict import make_strict
        make_strict(cfg)
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    if args.dump is not None:
        # as MMAction2 1.x tools/test.py (its lines 78-86 on dev-1.x)
        if not args.dump.endswith(('.pkl', '.pickle')):
            sys.exit(f'--dump {args.dump}: the dump file must end with .pkl '
                     'or .pickle (metrics as JSON: --dump-metrics).')
        # MMEngine's DumpResults, written atomically
        dump_metric = dict(type='AtomicDumpResults', out_file_path=args.dump)
        if isinstance(cfg.test_evaluator, (list, tuple)):
            cfg.test_evaluator = list(cfg.test_evaluator) + [dump_metric]
        else:
            cfg.test_evaluator = [cfg.test_evaluator, dump_metric]
    import mafsar_mm  # noqa: F401
    check_config_clip_weights(cfg)  # before anything is built
    setup_multi_process(cfg, args.launcher)
    with dist_timeout_reported(cfg):  # a rank that stops: one line
        runner = build_runner(cfg, args.verbose)
        metrics = runner.test()
    if args.dump_metrics and runner.rank == 0:
        from mafsar_mm.utils.atomic_files import atomic_write
        atomic_write(json.dumps(metrics, indent=2), args.dump_metrics)


if __name__ == '__main__':
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        # importing mafsar_mm imports mmcv, which warns (mmcv-lite):
        # setup_console sends these to the log file
        from mafsar_mm.utils.errors import run_main
    IMPORT_WARNINGS.extend(caught)
    from mafsar_mm.utils.console import console_session
    with console_session():  # logging and warnings as before, afterwards
        sys.exit(run_main(main))
