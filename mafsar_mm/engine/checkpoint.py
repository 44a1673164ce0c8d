"""Checkpoints: one-line errors before torch reads a file, the file
``--resume`` continues from, plain types, slim weights, strict loading.

torch >= 2.6 loads with ``weights_only=True`` unless told otherwise (its
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``), and so does MMEngine's local
loader. MMEngine's message hub pickles ``HistoryBuffer`` (which needs
``getattr``, so it cannot be allowlisted) and numpy objects: they are
saved as tagged plain types. A slim checkpoint leaves out the frozen
pretrained CLIP weights and records their SHA-256; loading takes them
from the model built from the config.
"""
import glob
import hashlib
import logging
import os
import os.path as osp
import re
from collections import OrderedDict
from functools import partial
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from mafsar_mm.models.text import CLIPTextEncoder
from mafsar_mm.utils.atomic_files import is_complete_torch_file
from mafsar_mm.utils.errors import UserError

#: torch's switch for full unpickling (``torch/serialization.py``).
FULL_UNPICKLING_ENV = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'
_CKPT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')
_TAG = '__mafsar_type__'
warn = partial(print_log, logger='current', level=logging.WARNING)


class CheckpointError(UserError, RuntimeError):
    """A checkpoint that cannot be used; the message says why."""


class UnsafeCheckpointError(CheckpointError):
    """The file needs full unpickling, which was not allowed."""


class CorruptCheckpointError(CheckpointError):
    """The file is not a readable torch checkpoint (e.g. truncated)."""


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's weights do not fit the model."""


def check_checkpoint_file(filename: str) -> None:
    """Check a local checkpoint before MMEngine loads it (URLs pass).

    Raises:
        FileNotFoundError: If the file does not exist.
        CorruptCheckpointError: If it is empty or truncated.
        UnsafeCheckpointError: If ``weights_only=True`` would reject it
            and :data:`FULL_UNPICKLING_ENV` is not set.
    """
    if '://' in filename:
        return
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint not found: {filename}')
    if osp.getsize(filename) == 0:
        raise CorruptCheckpointError(
            f'{filename} is empty (0 bytes), not a torch checkpoint; it '
            'was probably cut off while being copied or written.')
    if not is_complete_torch_file(filename):
        raise CorruptCheckpointError(
            f'{filename} is not a readable torch checkpoint (truncated or '
            'corrupt?): it has no complete zip directory.')
    full = os.environ.get(FULL_UNPICKLING_ENV, '').lower() in ('1', 'y',
                                                               'yes', 'true')
    found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    if found and not full:  # (torch warns when it unpickles fully)
        raise UnsafeCheckpointError(
            f'{filename} cannot be loaded with torch.load(weights_only='
            f'True): it pickles types outside the allowed set '
            f'({", ".join(found)}). Checkpoints saved by mafsar_mm configs '
            'do not; this one was probably written by another tool or an '
            f'older version. If you trust the file, set '
            f'{FULL_UNPICKLING_ENV}=1 (torch\'s switch) to load it with '
            'full unpickling (this can run code stored in the file).')


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` (without a path) continues from.

    MMEngine's ``find_latest_checkpoint`` returns what ``last_checkpoint``
    records; here the record counts only if it names an intact file in
    ``work_dir`` (a path outside, from a copied work dir, is read as its
    namesake inside), else the newest intact ``iter_*``/``epoch_*.pth``.
    Returns None (train from scratch) without checkpoints and record.

    Raises:
        CheckpointError: If the record names a file outside ``work_dir``
            that has no namesake there, or (``CorruptCheckpointError``)
            if a work dir with a record holds no intact checkpoint.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    recorded = None
    if osp.isfile(record):
        with open(record) as f:
            recorded = f.read().strip() or None
    if recorded and osp.dirname(
            osp.realpath(recorded)) != osp.realpath(work_dir):
        local = osp.join(work_dir, osp.basename(recorded))
        if not osp.isfile(local):
            raise CheckpointError(
                f'{record} names {recorded}, which is outside {work_dir} (a '
                f'copied work dir?), and {work_dir} has no '
                f'{osp.basename(recorded)}; resume from it explicitly '
                '(--resume PATH) or delete last_checkpoint.')
        warn(
            f'{record} names {recorded}, outside {work_dir} (a copied '
            f'work dir?); resuming from {local}, the copy in this work dir.')
        recorded = local
    if recorded and is_complete_torch_file(recorded):
        return recorded
    found = [(int(m.group(1)), path)
             for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth'))
             for m in [_CKPT_NAME.match(osp.basename(path))]
             if m and is_complete_torch_file(path)]
    if not osp.isfile(record):
        return max(found)[1] if found else None
    if not found:
        raise CorruptCheckpointError(
            f'{record} names {recorded!r}, which is missing or incomplete, '
            f'and {work_dir} holds no other intact iter_*.pth/epoch_*.pth. '
            'Delete last_checkpoint to train from scratch, or resume from '
            'a checkpoint given explicitly (--resume PATH).')
    warn(
        f'{record} names {recorded!r}, which is missing or incomplete; '
        f'resuming from {max(found)[1]} instead.')
    return max(found)[1]


def _plain(obj: Any, back: bool = False) -> Any:
    """``obj`` with HistoryBuffers, arrays and numpy scalars as tagged
    plain types or, with ``back``, restored; through dicts (OrderedDicts
    stay ones), lists and tuples."""
    tag = obj.get(_TAG) if back and isinstance(obj, dict) else None
    if tag == 'HistoryBuffer':
        return HistoryBuffer(
            _plain(obj['log_history'], True),
            _plain(obj['count_history'], True), obj['max_length'])
    if tag == 'ndarray':
        data = obj['data']
        return data.numpy() if isinstance(data, torch.Tensor) else np.array(
            data, dtype=obj['dtype'])
    if not back and isinstance(obj, HistoryBuffer):
        log, count = (_plain(a) for a in obj.data)
        return {_TAG: 'HistoryBuffer', 'log_history': log,
                'count_history': count, 'max_length': int(obj.max_length)}
    if not back and isinstance(obj, np.ndarray):
        try:
            data = torch.from_numpy(np.ascontiguousarray(obj).copy())
        except TypeError:  # object, str, ... dtypes
            data = obj.tolist()
        return {_TAG: 'ndarray', 'data': data, 'dtype': str(obj.dtype)}
    if not back and isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        kind = OrderedDict if isinstance(obj, OrderedDict) else dict
        return kind((k, _plain(v, back)) for k, v in obj.items())
    if type(obj) in (list, tuple):
        return type(obj)(_plain(v, back) for v in obj)
    return obj


def to_weights_only_types(obj: Any) -> Any:
    """A copy of a message hub or meta dict that ``weights_only=True``
    loads (numeric arrays exactly, as tensors)."""
    return _plain(obj)


def from_weights_only_types(obj: Any) -> Any:
    """Inverse of :func:`to_weights_only_types`."""
    return _plain(obj, back=True)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if is_model_wrapper(model) else model


def pretrained_clip_prefixes(model: nn.Module) -> List[str]:
    """Names of the outermost open_clip modules and text encoders in
    ``model`` (e.g. ``['backbone.visual', 'text_encoder']``)."""
    prefixes: List[str] = []
    for name, module in _unwrap(model).named_modules():
        is_clip = (type(module).__module__.startswith('open_clip.')
                   or isinstance(module, CLIPTextEncoder))
        if name and is_clip and not any(
                name.startswith(p + '.') for p in prefixes):
            prefixes.append(name)
    return prefixes


def frozen_pretrained_keys(model: nn.Module) -> List[str]:
    """Keys of the frozen parameters in pretrained CLIP modules (what a
    slim checkpoint leaves out), in ``state_dict`` order."""
    prefixes = pretrained_clip_prefixes(model)
    return [
        name for name, param in _unwrap(model).named_parameters(
            remove_duplicate=False) if not param.requires_grad and any(
                name.startswith(p + '.') for p in prefixes)
    ]


def weights_fingerprint(state_dict: Dict[str, torch.Tensor],
                        keys: Sequence[str]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``keys``."""
    digest = hashlib.sha256()
    for key in sorted(keys):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f'{key}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def make_slim(checkpoint: dict, model: nn.Module) -> dict:
    """Drop the frozen pretrained CLIP weights from ``checkpoint`` in place
    and return ``meta['slim_info']`` (keys, prefixes, fingerprint)."""
    state_dict = checkpoint['state_dict']
    keys = [k for k in frozen_pretrained_keys(model) if k in state_dict]
    info = dict(
        dropped_keys=keys,
        prefixes=pretrained_clip_prefixes(model),
        num_params=int(sum(state_dict[k].numel() for k in keys)),
        sha256=weights_fingerprint(state_dict, keys))
    for key in keys:
        del state_dict[key]
    checkpoint.setdefault('meta', {}).update(slim=True, slim_info=info)
    return info


def _refuse_or_warn(message: str, check_keys: bool) -> None:
    if check_keys:
        raise CheckpointMismatchError(message)
    warn(message)


def load_into_model(
        checkpoint: dict,
        model: nn.Module,
        check_keys: bool = True,
        hint: str = ('set default_hooks.slim_checkpoint.check_keys=False '
                     'in the config'),
        source: Optional[str] = None) -> List[str]:
    """Restore the plain types, complete a slim checkpoint from ``model``
    (checked by fingerprint) and load it with torch's strict
    ``load_state_dict``, whose error lists the missing, unexpected and
    mis-shaped keys (MMEngine only warns); returns the keys filled in.

    Args:
        checkpoint (dict): A checkpoint or state dict, completed in place.
        model (nn.Module): The model (wrapped or not).
        check_keys (bool): Raise :class:`CheckpointMismatchError` if it
            does not fit; False warns and loads the matching part.
        hint (str): How to turn the check off, for the message.
        source (str, optional): File name for the messages.
    """
    for key in ('meta', 'message_hub'):
        if isinstance(checkpoint.get(key), dict):
            checkpoint[key] = from_weights_only_types(checkpoint[key])
    model = _unwrap(model)
    what = f'Checkpoint {source}' if source else 'The checkpoint'
    state_dict = checkpoint.get('state_dict', checkpoint)
    info = (checkpoint.get('meta') or {}).get('slim_info') or {}
    dropped, filled = info.get('dropped_keys', []), []
    model_sd = model.state_dict() if dropped else {}
    # with keys the model lacks (another architecture) the strict load
    # below says what does not fit
    if dropped and 'state_dict' in checkpoint and all(k in model_sd
                                                      for k in dropped):
        if weights_fingerprint(model_sd, dropped) != info.get('sha256'):
            _refuse_or_warn(
                f'{what} is slim: it leaves out the frozen CLIP weights, '
                'but the CLIP built from this config is not the one it '
                'was trained with (fingerprint mismatch over '
                f'{len(dropped)} tensors under {info.get("prefixes")}). '
                'Use the same clip=dict(model_name=..., pretrained=...) '
                'as in training; a randomly initialised CLIP '
                '(pretrained=None) is only rebuilt identically with the '
                'same seed.', check_keys)
        else:
            filled = [k for k in dropped if k not in state_dict]
            state_dict.update({k: model_sd[k] for k in filled})
    try:  # the keys as MMEngine's _load_checkpoint_to_model revises them
        model.load_state_dict(
            {re.sub(r'^module\.', '', k): v
             for k, v in state_dict.items()},
            strict=True)
    except RuntimeError as e:
        _refuse_or_warn(
            f'{what} does not fit the model (a checkpoint of another '
            f'architecture or config?): {e} Use the config the checkpoint '
            'was trained with; to load only the matching weights anyway, '
            f'{hint}.', check_keys)
    return filled


def load_model_checkpoint(model: nn.Module,
                          filename: str,
                          map_location: Union[str, torch.device] = 'cpu',
                          check_keys: bool = True) -> dict:
    """Load a (slim or full) checkpoint into ``model`` outside a Runner
    (inferencer, tools) with the Runner hooks' checks; returns it."""
    check_checkpoint_file(filename)
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'No state dict found in {filename}')
    load_into_model(checkpoint, model, check_keys, 'pass check_keys=False',
                    filename)
    return checkpoint
