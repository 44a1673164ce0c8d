"""Load a (slim or full) checkpoint into a model outside a Runner (the
inferencer, tools), with the same checks as the Runner's hooks."""
from typing import Union

import torch
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from torch import nn

from .checkpoint_fit import prepare_state_dict
from .checkpoint_loading import (CheckpointError, from_weights_only_types,
                                 safe_local_loading)
from .checkpoint_slimming import _unwrap


def load_model_checkpoint(model: nn.Module,
                          filename: str,
                          map_location: Union[str, torch.device] = 'cpu',
                          check_keys: bool = True) -> dict:
    """Load a (slim or full) checkpoint into a model outside a Runner.

    Uses MMEngine's loaders (local files: ``weights_only=True``, see
    :func:`load_local_checkpoint`), :func:`prepare_state_dict` and
    MMEngine's ``module.``-stripping load.

    Args:
        model (nn.Module): Model built from the training config.
        filename (str): Checkpoint file or URL.
        map_location (str | torch.device): As for ``torch.load``.
            Defaults to 'cpu'.
        check_keys (bool): Raise :class:`CheckpointMismatchError` when the
            checkpoint does not fit. Defaults to True.

    Returns:
        dict: The checkpoint (meta and message hub restored).
    """
    with safe_local_loading():
        checkpoint = _load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'No state dict found in {filename}')
    restore_plain_types(checkpoint)
    prepare_state_dict(
        checkpoint,
        model,
        check_keys=check_keys,
        hint='pass check_keys=False',
        source=filename)
    _load_checkpoint_to_model(_unwrap(model), checkpoint, strict=False)
    return checkpoint


def restore_plain_types(checkpoint: dict) -> None:
    """Undo :func:`to_weights_only_types` on ``meta``/``message_hub``."""
    for key in ('meta', 'message_hub'):
        if isinstance(checkpoint.get(key), dict):
            checkpoint[key] = from_weights_only_types(checkpoint[key])
