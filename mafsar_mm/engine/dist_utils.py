"""Multi-process set-up for machines without CUDA."""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config

from mafsar_mm.utils.errors import InputError


def setup_multi_process(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` (and the process group) for the chosen launcher.

    MMEngine's PyTorch launcher calls ``torch.cuda.set_device`` and wraps
    the model with ``device_ids=[LOCAL_RANK]``; neither works without
    CUDA. On such machines a gloo process group is created here, before
    ``Runner.from_cfg``, and DDP is built with ``device_ids=None``. With
    CUDA the stock path is left alone.

    Args:
        cfg (Config): The run's config; ``launcher``, ``env_cfg`` and
            ``model_wrapper_cfg`` are set in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or
            ``'mpi'``.
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise InputError(
            f'Without CUDA only --launcher pytorch (torchrun, mim, '
            f'dist_train.sh) is supported for several processes, got '
            f'{launcher!r}')
    os.environ.setdefault('LOCAL_RANK', '0')
    env_cfg = cfg.get('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    cfg.env_cfg = env_cfg
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo', init_method='env://')
    wrapper = dict(cfg.get('model_wrapper_cfg', None) or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
