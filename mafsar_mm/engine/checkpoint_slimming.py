"""Slim checkpoints: leave the frozen pretrained CLIP weights out.

MA-FSAR tunes a few million adapter/head parameters around a frozen CLIP
of 150M+. A slim checkpoint leaves out the frozen CLIP parameters and
records a SHA-256 fingerprint of them; loading rebuilds them from the
config's pretrained source (the model is built from the config before the
checkpoint is loaded), checks the fingerprint and fills them in
(:func:`mafsar_mm.engine.prepare_state_dict`).
"""
import hashlib
from typing import Dict, List, Sequence

import torch
from mmengine.model import is_model_wrapper
from torch import nn

from mafsar_mm.models.text import CLIPTextEncoder


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
