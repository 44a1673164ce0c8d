"""Train a few-shot recognizer (MMAction2's ``tools/train.py`` layout).

Examples::

    python tools/train.py configs/mafsar_ssv2_5w1s.py
    torchrun --nproc_per_node=2 tools/train.py CONFIG --launcher pytorch
    bash tools/dist_train.sh CONFIG 8
"""
import argparse
import os
import os.path as osp
import sys
from typing import Optional

from mmengine.config import Config, DictAction

#: warnings of the first import of mafsar_mm (see ``__main__``)
IMPORT_WARNINGS = []

#: Optimizer wrappers ``--amp`` can turn into a mixed-precision one.
AMP_COMPATIBLE = ('OptimWrapper', 'AmpOptimWrapper', 'CPUAmpOptimWrapper')


def use_amp(optim_wrapper: dict, device: Optional[str] = None) -> str:
    """Make ``cfg.optim_wrapper`` mixed-precision in place, as MMAction2's
    ``tools/train.py`` does on a GPU, and with bfloat16 autocast on the
    CPU (``CPUAmpOptimWrapper``; MMEngine's asserts a GPU); returns the
    wrapper type set. ``device`` defaults to MMEngine's ``get_device``."""
    from mafsar_mm.utils.errors import InputError
    wrapper = optim_wrapper.get('type', 'OptimWrapper')
    if wrapper not in AMP_COMPATIBLE:
        raise InputError(f'--amp does not support the optimizer wrapper '
                         f'{wrapper!r} of the config (it works with '
                         f'{", ".join(AMP_COMPATIBLE)}).')
    from mmengine.device import get_device
    if (device or get_device()) == 'cpu':
        optim_wrapper['type'] = 'CPUAmpOptimWrapper'
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            optim_wrapper.pop(key, None)  # AmpOptimWrapper's only
    else:
        optim_wrapper['type'] = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    return optim_wrapper['type']


def add_tensorboard(cfg: Config) -> None:
    """``--tensorboard``: MMEngine's ``TensorboardVisBackend`` next to the
    config's backends (its events go to the run's ``vis_data``). A flag,
    as ``--cfg-options`` cannot extend a list of dicts."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        from mafsar_mm.utils.errors import InputError
        raise InputError("--tensorboard needs the tensorboard package: pip "
                         "install tensorboard (or pip install -e "
                         "'.[tensorboard]').") from None
    visualizer = cfg.get('visualizer') or dict(type='Visualizer')
    backends = list(visualizer.get('vis_backends') or [])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer['vis_backends'] = backends
    cfg.visualizer = visualizer


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a few-shot model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--clip-weights',
        metavar='PATH',
        help='local CLIP weights file for every CLIP of the model (visual '
        'backbone and text encoder); checked before anything is built')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision: float16 on a GPU (MMEngine\'s '
        'AmpOptimWrapper), bfloat16 autocast on the CPU')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual number of episodes per '
        'step (processes x episodes per process) over '
        'auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--tensorboard',
        action='store_true',
        help='also write TensorBoard event files (vis_data/ of the run; '
        'needs the tensorboard package)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='set deterministic options for CUDNN')
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
        help='stop on videos listed more than once in an annotation file '
        'instead of warning and using each once')
    parser.add_argument(
        '--debug', action='store_true', help='show stack traces of errors')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='also print the environment, the config, the hook order and '
        'warnings on the console (always in the log file)')
    # torch.distributed.launch (used by mim) passes --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        use_amp(cfg.optim_wrapper)
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            from mafsar_mm.utils.errors import InputError
            raise InputError('--auto-scale-lr needs auto_scale_lr='
                             'dict(base_batch_size=...) in the config.')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.seed is not None:
        cfg.randomness = dict(
            seed=args.seed, deterministic=args.deterministic)
    elif args.deterministic:
        cfg.setdefault('randomness', {})['deterministic'] = True
    from mafsar_mm.models.clip.clip_config import (merge_cfg_options,
                                                   set_clip_weights)
    merge_cfg_options(cfg, args.cfg_options)  # clip.* reaches the model
    if args.clip_weights is not None:
        set_clip_weights(cfg, args.clip_weights)
    # after --cfg-options, so that val_dataloader options do not meet None
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.tensorboard:
        add_tensorboard(cfg)
    if args.strict:
        from mafsar_mm.utils.strict import make_strict
        make_strict(cfg)
    return cfg


def main() -> None:
    args = parse_args()
    from mafsar_mm.utils.console import build_runner, setup_console
    setup_console(args.verbose, IMPORT_WARNINGS)  # for the log file
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    # registers mafsar_mm (also done by custom_imports in the configs)
    import mafsar_mm  # noqa: F401
    from mafsar_mm.engine import find_resume_checkpoint
    from mafsar_mm.models.clip.clip_config import check_config_clip_weights
    from mafsar_mm.utils.config_checks import check_config
    from mafsar_mm.utils.dist import (dist_timeout_reported,
                                      setup_multi_process)
    from mafsar_mm.utils.workdir_lock import claim_work_dir
    check_config(cfg)  # a wrong type or key: one line, before any work
    check_config_clip_weights(cfg)  # before anything is built
    claim_work_dir(cfg.work_dir)  # one run per work dir; stale tmp removed
    if args.resume == 'auto':
        # the newest intact checkpoint, even if `last_checkpoint` is stale
        cfg.load_from = find_resume_checkpoint(cfg.work_dir)
        cfg.resume = cfg.load_from is not None
    setup_multi_process(cfg, args.launcher)
    with dist_timeout_reported(cfg):  # a rank that stops: one line
        runner = build_runner(cfg, args.verbose)
        if args.resume == 'auto' and not cfg.resume:
            runner.logger.warning(f'--resume: {cfg.work_dir} holds no '
                                  'checkpoint; training starts from scratch.')
        runner.train()


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
