"""A randomly initialised few-shot model saved as a checkpoint, for the
inference and analysis tests (no training needed)."""
import torch
from mmaction.registry import MODELS

import mafsar_mm  # noqa: F401


def save_random_checkpoint(cfg, path: str, seed: int = 0) -> None:
    """Build ``cfg.model``, move its tunable parameters away from their
    (zero) initialisation and save it like an MMEngine checkpoint.

    Args:
        cfg (Config): Config with a ``model``.
        path (str): Output checkpoint file.
        seed (int): Torch seed. Defaults to 0.
    """
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(0.05 * torch.randn_like(param))
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), path)
