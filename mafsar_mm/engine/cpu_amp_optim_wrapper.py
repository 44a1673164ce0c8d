"""``tools/train.py --amp`` on the CPU: MMEngine's ``AmpOptimWrapper``
asserts an accelerator, so this is its ``OptimWrapper`` with the forward
under torch's bfloat16 CPU autocast (float32's exponent range, so no
loss scaling: PyTorch's GradScaler is for float16)."""
from contextlib import contextmanager

import torch
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.optim import OptimWrapper
from torch import nn


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` with the forward under bfloat16 CPU autocast."""

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The parent's context (gradient accumulation) plus autocast.

        Args:
            model (nn.Module): The training model.
        """
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield
