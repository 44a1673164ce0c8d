"""Mixed-precision training on the CPU.

MMEngine's ``AmpOptimWrapper`` (mmengine/optim/optimizer/
amp_optimizer_wrapper.py, 0.10.7) asserts a GPU, NPU, MLU or MUSA device
in its ``__init__``, so ``tools/train.py --amp`` on a CPU ended in an
``AssertionError``. :class:`CPUAmpOptimWrapper` is MMEngine's plain
``OptimWrapper`` whose forward runs under MMEngine's ``autocast`` with
``bfloat16``, the CPU's autocast type; bfloat16 keeps float32's exponent
range, so no loss scaling is needed (PyTorch's AMP notes: GradScaler is
for float16). ``tools/train.py --amp`` picks it or ``AmpOptimWrapper``.
"""
from contextlib import contextmanager

import torch
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from torch import nn


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
