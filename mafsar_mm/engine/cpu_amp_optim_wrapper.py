"""Mixed-precision training on the CPU, and what ``--amp`` selects.

MMEngine's ``AmpOptimWrapper`` (mmengine/optim/optimizer/
amp_optimizer_wrapper.py, 0.10.7) asserts a GPU, NPU, MLU or MUSA device
in its ``__init__``, so ``tools/train.py --amp`` on a CPU ended in an
``AssertionError``. :class:`CPUAmpOptimWrapper` is MMEngine's plain
``OptimWrapper`` whose forward runs under MMEngine's ``autocast`` with
``bfloat16``, the CPU's autocast type; bfloat16 keeps float32's exponent
range, so no loss scaling is needed (PyTorch's AMP notes: GradScaler is
for float16). :func:`use_amp` picks it or ``AmpOptimWrapper``.
"""
from contextlib import contextmanager
from typing import Optional

import torch
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.device import get_device
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from torch import nn

from mafsar_mm.utils.errors import InputError

#: Optimizer wrappers ``--amp`` can turn into a mixed-precision one.
AMP_COMPATIBLE = ('OptimWrapper', 'AmpOptimWrapper', 'CPUAmpOptimWrapper')


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` with the forward under bfloat16 CPU autocast.

    Args:
        **kwargs: The arguments of ``mmengine.optim.OptimWrapper``.
    """

    #: The autocast type of the CPU (MMEngine's ``autocast`` accepts only
    #: this one there).
    cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The parent's context (gradient accumulation) plus CPU autocast.

        Args:
            model (nn.Module): The training model.
        """
        with super().optim_context(model), autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield


def use_amp(optim_wrapper: dict, device: Optional[str] = None) -> str:
    """Make an ``optim_wrapper`` config mixed-precision (``--amp``), as
    MMAction2 1.x ``tools/train.py`` does on a GPU and with bfloat16
    autocast on the CPU.

    Args:
        optim_wrapper (dict): ``cfg.optim_wrapper``, changed in place.
        device (str, optional): ``'cpu'``, ``'cuda'``, ...; None asks
            MMEngine (``get_device``). Defaults to None.

    Returns:
        str: The wrapper type set.

    Raises:
        InputError: If the config's wrapper is not one of
            :data:`AMP_COMPATIBLE`.
    """
    wrapper = optim_wrapper.get('type', 'OptimWrapper')
    if wrapper not in AMP_COMPATIBLE:
        raise InputError(f'--amp does not support the optimizer wrapper '
                         f'{wrapper!r} of the config (it works with '
                         f'{", ".join(AMP_COMPATIBLE)}).')
    device = device or get_device()
    if device == 'cpu':
        optim_wrapper['type'] = 'CPUAmpOptimWrapper'
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            optim_wrapper.pop(key, None)  # AmpOptimWrapper's only
    else:
        optim_wrapper['type'] = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    return optim_wrapper['type']
