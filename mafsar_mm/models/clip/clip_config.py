"""One place to say which CLIP weights a config uses.

A config's top-level ``clip`` dict is copied into ``model.backbone.clip``
and ``model.text_encoder.clip`` when the file is parsed, so overriding
``clip.pretrained`` after parsing would change nothing the model reads.
:func:`merge_cfg_options` makes ``--cfg-options clip.KEY=VALUE`` reach
every model dict that is a copy of it (and refuses it when there is none);
:func:`set_clip_weights` (``--clip-weights PATH``) sets the file of every
CLIP the model builds; :func:`check_config_clip_weights` checks, before
anything is built, that those weights can be had (:func:`check_clip_weights`:
file present, or tag cached or downloadable).
"""
import os.path as osp
from copy import deepcopy
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config, ConfigDict
from open_clip.pretrained import get_pretrained_cfg

from mafsar_mm.utils.errors import InputError
from .clip_checkpoint import CLIPCheckpointError
from .clip_weights import (CLIPWeightsNotFoundError, check_clip_weights,
                           clean_name)

#: The command-line option that sets the CLIP weights file.
CLIP_WEIGHTS_OPTION = '--clip-weights'


def find_clip_dicts(cfg: Any, prefix: str = 'model') -> List[Tuple[str, dict]]:
    """Every dict under a key named ``clip`` in a (model) config.

    Args:
        cfg: A config dict (or list) to search.
        prefix (str): Dotted name of ``cfg``. Defaults to 'model'.

    Returns:
        list[tuple[str, dict]]: Dotted keys (``'model.backbone.clip'``)
        and the dicts themselves (not copies), in config order.
    """
    found = []
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            name = f'{prefix}.{key}'
            if key == 'clip' and isinstance(value, dict):
                found.append((name, value))
            else:
                found += find_clip_dicts(value, name)
    elif isinstance(cfg, (list, tuple)):
        for i, value in enumerate(cfg):
            found += find_clip_dicts(value, f'{prefix}.{i}')
    return found


def _tag_quick_gelu(clip: dict) -> Optional[bool]:
    """QuickGELU of the open_clip tag ``clip`` names (None: not a tag)."""
    name, tag = clip.get('model_name'), clip.get('pretrained')
    if name is None or not isinstance(tag, str) or osp.isfile(tag):
        return None
    pcfg = get_pretrained_cfg(clean_name(name), tag)
    return bool(pcfg.get('quick_gelu', False)) if pcfg else None


def _replace_pretrained(clip: dict, pretrained: Optional[str]) -> None:
    """Set ``clip['pretrained']``, keeping the activation the replaced
    tag implied: OpenAI's weights need QuickGELU, which a state dict file
    cannot tell (``clip.quick_gelu`` overrides)."""
    if clip.get('quick_gelu') is None:
        quick_gelu = _tag_quick_gelu(clip)
        if quick_gelu:
            clip['quick_gelu'] = True
    clip['pretrained'] = pretrained


def merge_cfg_options(cfg: Config, options: Optional[Dict[str, Any]]) -> None:
    """``cfg.merge_from_dict(options)``, where ``clip.KEY=VALUE`` also
    reaches every model ``clip`` dict copied from the top-level ``clip``.

    Args:
        cfg (Config): The config, changed in place.
        options (dict, optional): ``--cfg-options`` (dotted keys).

    Raises:
        InputError: If a ``clip.*`` option is given but the config has no
            top-level ``clip`` that the model copies.
    """
    if not options:
        return
    options = dict(options)
    clip_keys = [k for k in options if k == 'clip' or k.startswith('clip.')]
    if not clip_keys:
        cfg.merge_from_dict(options)
        return
    top = cfg.get('clip')
    copies = [(name, d) for name, d in find_clip_dicts(cfg.get('model'))
              if top is not None and d == top]
    if not copies:
        keys = [n for n, _ in find_clip_dicts(cfg.get('model'))]
        raise InputError(
            f'--cfg-options {clip_keys[0]}: this config has no top-level '
            '`clip` that its model copies; give the weights file with '
            f'{CLIP_WEIGHTS_OPTION} PATH, or set the model keys '
            f'({", ".join(keys) or "none"}) directly.')
    explicit = {k: options.pop(k) for k in clip_keys}
    cfg.merge_from_dict(options)  # explicit model.*.clip keys included
    for key, value in explicit.items():
        sub = key[len('clip'):].lstrip('.')
        for name, _ in copies:
            full = f'{name}.{sub}' if sub else name
            if full in options:
                continue  # an explicit model key wins
            if sub == 'pretrained':
                _replace_pretrained(_get(cfg, name), value)
            else:
                cfg.merge_from_dict({full: deepcopy(value)})
    cfg.merge_from_dict(explicit)  # the top-level copy stays in step


def _get(cfg: Config, dotted: str) -> dict:
    node = cfg
    for part in dotted.split('.'):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def set_clip_weights(cfg: Config, path: str) -> List[str]:
    """``--clip-weights PATH``: load every CLIP the model builds (visual
    backbone, text encoder) from one local file.

    Args:
        cfg (Config): The config, changed in place.
        path (str): The weights file (OpenAI TorchScript ``.pt``, open_clip
            state dict or ``.safetensors``).

    Returns:
        list[str]: The dotted keys that were set.

    Raises:
        InputError: If the file does not exist or the model builds no
            CLIP.
    """
    if not osp.isfile(osp.expanduser(path)):
        raise InputError(f'{CLIP_WEIGHTS_OPTION} {path}: no such file.')
    found = find_clip_dicts(cfg.get('model'))
    if not found:
        raise InputError(f'{CLIP_WEIGHTS_OPTION}: the model of this config '
                         'builds no CLIP (no `clip` dict under model).')
    for _, clip in found:
        _replace_pretrained(clip, path)
    if isinstance(cfg.get('clip'), dict):
        _replace_pretrained(cfg.clip, path)
    return [name for name, _ in found]


def check_config_clip_weights(cfg: Config) -> None:
    """Check, before anything is built, that every CLIP of the model can
    get its weights (see :func:`check_clip_weights`).

    Args:
        cfg (Config): The config.

    Raises:
        CLIPWeightsNotFoundError: Naming the first config key whose
            weights are missing and the option that gives a file.
    """
    seen = []
    for name, clip in find_clip_dicts(cfg.get('model')):
        clip = dict(clip.to_dict() if isinstance(clip, ConfigDict) else clip)
        if clip in seen:
            continue  # the text encoder's copy of the backbone's
        seen.append(clip)
        try:
            check_clip_weights(**clip)
        except (CLIPWeightsNotFoundError, CLIPCheckpointError) as err:
            raise type(err)(f'{name}: {err}') from None
