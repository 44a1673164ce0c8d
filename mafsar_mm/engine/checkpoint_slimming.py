"""Slim checkpoints: leave the frozen pretrained CLIP weights out.

MA-FSAR tunes a few million adapter/head parameters around a frozen CLIP
of 150M+. A slim checkpoint leaves out the frozen CLIP parameters and
records a SHA-256 fingerprint of them; loading rebuilds them from the
config's pretrained source (the model is built from the config before the
checkpoint is loaded), checks the fingerprint and fills them in
(:func:`load_into_model`, which then loads with torch's
``load_state_dict(strict=True)``).
"""
import hashlib
import re
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import nn

from mafsar_mm.models.text import CLIPTextEncoder
from .checkpoint import CheckpointMismatchError

_HOOK_HINT = ('set default_hooks.slim_checkpoint.check_keys=False in the '
              'config')


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if is_model_wrapper(model) else model


def _is_pretrained_clip(module: nn.Module) -> bool:
    """open_clip modules (visual tower, text transformer, whole CLIP) and
    our text encoder, which holds the text parts of a CLIP."""
    return (type(module).__module__.startswith('open_clip.')
            or isinstance(module, CLIPTextEncoder))


def pretrained_clip_prefixes(model: nn.Module) -> List[str]:
    """Names of the outermost pretrained-CLIP submodules of ``model``.

    Args:
        model (nn.Module): The recognizer (wrapped or not).

    Returns:
        list[str]: E.g. ``['backbone.visual', 'text_encoder']``.
    """
    prefixes: List[str] = []
    for name, module in _unwrap(model).named_modules():
        if name and _is_pretrained_clip(module) and not any(
                name.startswith(p + '.') for p in prefixes):
            prefixes.append(name)
    return prefixes


def frozen_pretrained_keys(model: nn.Module) -> List[str]:
    """State-dict keys of the frozen (``requires_grad=False``) parameters
    inside pretrained CLIP modules: what a slim checkpoint leaves out.

    Tunable parameters, buffers and frozen parameters outside CLIP
    modules are always kept.

    Args:
        model (nn.Module): The recognizer (wrapped or not).

    Returns:
        list[str]: The keys, in ``state_dict`` order.
    """
    prefixes = pretrained_clip_prefixes(model)
    return [
        name for name, param in _unwrap(model).named_parameters(
            remove_duplicate=False) if not param.requires_grad and any(
                name.startswith(p + '.') for p in prefixes)
    ]


def weights_fingerprint(state_dict: Dict[str, torch.Tensor],
                        keys: Sequence[str]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``keys``.

    Args:
        state_dict (dict[str, Tensor]): Weights.
        keys (Sequence[str]): The keys to hash (order does not matter).

    Returns:
        str: Hex digest.
    """
    digest = hashlib.sha256()
    for key in sorted(keys):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f'{key}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def make_slim(checkpoint: dict, model: nn.Module) -> dict:
    """Drop the frozen pretrained CLIP weights from ``checkpoint`` in place.

    Records in ``checkpoint['meta']``: ``slim=True`` and ``slim_info``
    with the dropped keys, their module prefixes, their parameter count
    and their :func:`weights_fingerprint`.

    Args:
        checkpoint (dict): A Runner checkpoint (``state_dict``, ``meta``).
        model (nn.Module): The model it was taken from.

    Returns:
        dict: ``slim_info``.
    """
    state_dict = checkpoint['state_dict']
    keys = [k for k in frozen_pretrained_keys(model) if k in state_dict]
    info = dict(
        dropped_keys=keys,
        prefixes=pretrained_clip_prefixes(model),
        num_params=int(sum(state_dict[k].numel() for k in keys)),
        sha256=weights_fingerprint(state_dict, keys))
    for key in keys:
        del state_dict[key]
    meta = checkpoint.setdefault('meta', {})
    meta['slim'] = True
    meta['slim_info'] = info
    return info


def _fill_slim(checkpoint: dict, model_sd: dict, check_keys: bool,
               what: str) -> List[str]:
    """Put the frozen weights a slim checkpoint left out back from the
    model's (checked by fingerprint); returns the keys filled."""
    info = (checkpoint.get('meta') or {}).get('slim_info') or {}
    dropped = list(info.get('dropped_keys', []))
    if any(k not in model_sd for k in dropped):
        return []  # another architecture: the strict load says so
    if weights_fingerprint(model_sd, dropped) != info.get('sha256'):
        message = (
            f'{what} is slim: it leaves out the frozen CLIP weights, but '
            'the CLIP built from this config is not the one it was '
            'trained with (fingerprint mismatch over '
            f'{len(dropped)} tensors under {info.get("prefixes")}). Use '
            'the same clip=dict(model_name=..., pretrained=...) as in '
            'training; a randomly initialised CLIP (pretrained=None) is '
            'only rebuilt identically with the same seed.')
        if check_keys:
            raise CheckpointMismatchError(message)
        print_log(message, logger='current', level=30)
        return []
    state_dict = checkpoint['state_dict']
    filled = [k for k in dropped if k not in state_dict]
    for key in filled:
        state_dict[key] = model_sd[key]
    return filled


def load_into_model(checkpoint: dict,
                    model: nn.Module,
                    check_keys: bool = True,
                    hint: str = _HOOK_HINT,
                    source: Optional[str] = None) -> List[str]:
    """Complete a slim checkpoint from ``model`` and load it with torch's
    ``load_state_dict(strict=True)`` (MMEngine alone loads a checkpoint of
    another architecture with a mere warning).

    Args:
        checkpoint (dict): A loaded checkpoint; its ``state_dict`` (or the
            dict itself, for a bare state dict) is completed in place.
        model (nn.Module): The model (wrapped or not).
        check_keys (bool): Raise on missing or unexpected keys and shape
            mismatches; False warns and loads the matching part.
            Defaults to True.
        hint (str): How to turn the check off, for the message.
        source (str, optional): File name for the messages.

    Returns:
        list[str]: The keys filled in from ``model``.

    Raises:
        CheckpointMismatchError: If ``check_keys`` and the checkpoint does
            not fit, or a slim checkpoint's frozen weights differ from the
            model's.
    """
    model = _unwrap(model)
    what = f'Checkpoint {source}' if source else 'The checkpoint'
    filled = []
    if 'state_dict' in checkpoint and (checkpoint.get('meta')
                                       or {}).get('slim'):
        filled = _fill_slim(checkpoint, model.state_dict(), check_keys, what)
    state_dict = checkpoint.get('state_dict', checkpoint)
    # the keys as MMEngine's _load_checkpoint_to_model revises them
    state_dict = {
        re.sub(r'^module\.', '', k): v
        for k, v in state_dict.items()
    }
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as e:
        message = (f'{what} does not fit the model (a checkpoint of '
                   f'another architecture or config?): {e} Use the config '
                   'the checkpoint was trained with; to load only the '
                   f'matching weights anyway, {hint}.')
        if check_keys:
            raise CheckpointMismatchError(message) from None
        print_log(message, logger='current', level=30)
    return filled
