"""Checkpoint files: one-line errors before loading, plain types, the
checkpoint ``--resume`` continues from, and loading outside a Runner.

torch >= 2.6 loads with ``weights_only=True`` by default and MMEngine's
local loader (``load_from_local``) passes no ``weights_only``, so every
local checkpoint MMEngine reads is unpickled safely; torch's own
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` allows full unpickling (trusted
files only). Stock MMEngine training checkpoints need it (their message
hub pickles ``HistoryBuffer`` and numpy objects); ours store those as
tensors and plain types (:func:`to_weights_only_types`, applied by
:class:`~mafsar_mm.engine.SlimCheckpointHook`). :func:`check_checkpoint_file`
says in one line what torch would raise deep inside a load.
"""
import glob
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Any, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from mafsar_mm.utils.atomic_files import is_complete_torch_file
from mafsar_mm.utils.errors import UserError

#: torch's switch for full unpickling when ``weights_only`` is not given
#: (``torch/serialization.py``, ``load``).
FULL_UNPICKLING_ENV = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'

_TAG = '__mafsar_type__'
_CKPT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


class CheckpointError(UserError, RuntimeError):
    """A checkpoint that cannot be used; the message says why."""


class UnsafeCheckpointError(CheckpointError):
    """The file needs full unpickling, which was not allowed."""


class CorruptCheckpointError(CheckpointError):
    """The file is not a readable torch checkpoint (e.g. truncated)."""


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's weights do not fit the model."""


def full_unpickling_allowed() -> bool:
    """Whether torch will fully unpickle (``TORCH_FORCE_NO_WEIGHTS_ONLY_
    LOAD`` set to one of torch's true values)."""
    value = os.environ.get(FULL_UNPICKLING_ENV, '0').lower()
    return value in ('1', 'y', 'yes', 'true')


def check_checkpoint_file(filename: str) -> None:
    """Check a local checkpoint before MMEngine loads it (URLs pass).

    Raises:
        FileNotFoundError: If the file does not exist.
        CorruptCheckpointError: If it is empty or not a complete torch
            zip file (truncated while being copied or written).
        UnsafeCheckpointError: If ``torch.load(weights_only=True)`` would
            reject it and :data:`FULL_UNPICKLING_ENV` is not set.
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
    if full_unpickling_allowed():
        print_log(
            f'{FULL_UNPICKLING_ENV}=1: loading {filename} with full '
            'unpickling. Only do this for checkpoints you trust.',
            logger='current',
            level=30)
        return
    found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    if found:
        raise UnsafeCheckpointError(
            f'{filename} cannot be loaded with torch.load(weights_only='
            f'True): it pickles types outside the allowed set '
            f'({", ".join(found)}). Checkpoints saved by mafsar_mm configs '
            'do not; this one was probably written by another tool or an '
            f'older version. If you trust the file, set '
            f'{FULL_UNPICKLING_ENV}=1 (torch\'s switch) to load it with '
            'full unpickling (this can run code stored in the file).')


def _array(array: np.ndarray) -> dict:
    try:
        data = torch.from_numpy(np.ascontiguousarray(array).copy())
    except TypeError:  # object, str, ... dtypes
        data = array.tolist()
    return {_TAG: 'ndarray', 'data': data, 'dtype': str(array.dtype)}


def _map(obj: Any, leaf) -> Any:
    """``obj`` with ``leaf`` applied from the top of every dict, list and
    tuple (an OrderedDict stays one, other dict types become dicts)."""
    done = leaf(obj)
    if done is not obj:
        return done
    if isinstance(obj, dict):
        kind = OrderedDict if isinstance(obj, OrderedDict) else dict
        return kind((k, _map(v, leaf)) for k, v in obj.items())
    if type(obj) in (list, tuple):
        return type(obj)(_map(v, leaf) for v in obj)
    return obj


def _to_plain(obj: Any) -> Any:
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {
            _TAG: 'HistoryBuffer',
            'log_history': _array(log),
            'count_history': _array(count),
            'max_length': int(obj.max_length)
        }
    if isinstance(obj, np.ndarray):
        return _array(obj)
    return obj.item() if isinstance(obj, np.generic) else obj


def _from_plain(obj: Any) -> Any:
    tag = obj.get(_TAG) if isinstance(obj, dict) else None
    if tag == 'ndarray':
        data = obj['data']
        if isinstance(data, torch.Tensor):
            return data.numpy()
        return np.array(data, dtype=obj['dtype'])
    if tag == 'HistoryBuffer':
        return HistoryBuffer(
            _from_plain(obj['log_history']), _from_plain(obj['count_history']),
            obj['max_length'])
    return obj


def to_weights_only_types(obj: Any) -> Any:
    """A copy of a message hub or meta dict that ``weights_only=True``
    loads: ``HistoryBuffer`` and ``np.ndarray`` become tagged dicts
    (numeric arrays exactly, as tensors), numpy scalars Python scalars."""
    return _map(obj, _to_plain)


def from_weights_only_types(obj: Any) -> Any:
    """Inverse of :func:`to_weights_only_types`."""
    return _map(obj, _from_plain)


def restore_plain_types(checkpoint: dict) -> None:
    """Undo :func:`to_weights_only_types` on ``meta``/``message_hub``."""
    for key in ('meta', 'message_hub'):
        if isinstance(checkpoint.get(key), dict):
            checkpoint[key] = from_weights_only_types(checkpoint[key])


def _inside_work_dir(recorded: str, work_dir: str, record: str) -> str:
    """``recorded`` when it lies in ``work_dir``, else its namesake there
    (a copied work dir records the original's paths), with a warning.

    Raises:
        CheckpointError: If ``work_dir`` has no file of that name:
            resuming would silently train from another run's weights.
    """
    if osp.dirname(osp.realpath(recorded)) == osp.realpath(work_dir):
        return recorded
    local = osp.join(work_dir, osp.basename(recorded))
    if osp.isfile(local):
        print_log(
            f'{record} names {recorded}, outside {work_dir} (a copied '
            f'work dir?); resuming from {local}, the copy in this work '
            'dir.',
            logger='current',
            level=30)
        return local
    raise CheckpointError(
        f'{record} names {recorded}, which is outside {work_dir} (a copied '
        f'work dir?), and {work_dir} has no {osp.basename(recorded)}; '
        'resume from it explicitly (--resume PATH) or delete '
        'last_checkpoint.')


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` (without a path) continues from.

    MMEngine's ``find_latest_checkpoint`` returns what
    ``work_dir/last_checkpoint`` records; here that record is used only
    when it names an intact file in ``work_dir`` (a path outside is read
    as its namesake inside), else the newest intact
    ``iter_*.pth``/``epoch_*.pth``, with a warning.

    Returns:
        str | None: The checkpoint; None for a work dir without
        checkpoints and ``last_checkpoint`` (training from scratch).

    Raises:
        CorruptCheckpointError: If ``last_checkpoint`` exists but no
            checkpoint in ``work_dir`` is intact.
    """
    recorded = None
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            recorded = f.read().strip() or None
        if recorded is not None:
            recorded = _inside_work_dir(recorded, work_dir, record)
            if is_complete_torch_file(recorded):
                return recorded
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _CKPT_NAME.match(osp.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    for _, path in sorted(found, reverse=True):
        if is_complete_torch_file(path):
            if osp.isfile(record):
                print_log(
                    f'{record} names {recorded!r}, which is missing or '
                    f'incomplete; resuming from {path} instead.',
                    logger='current',
                    level=30)
            return path
    if osp.isfile(record):
        raise CorruptCheckpointError(
            f'{record} names {recorded!r}, which is missing or incomplete, '
            f'and {work_dir} holds no other intact iter_*.pth/epoch_*.pth. '
            'Delete last_checkpoint to train from scratch, or resume from '
            'a checkpoint given explicitly (--resume PATH).')
    return None


def load_model_checkpoint(model: nn.Module,
                          filename: str,
                          map_location: Union[str, torch.device] = 'cpu',
                          check_keys: bool = True) -> dict:
    """Load a (slim or full) checkpoint into a model outside a Runner
    (inferencer, tools), with the checks of the Runner's hooks.

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
    from .checkpoint_slimming import load_into_model
    check_checkpoint_file(filename)
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'No state dict found in {filename}')
    restore_plain_types(checkpoint)
    load_into_model(checkpoint, model, check_keys, 'pass check_keys=False',
                    filename)
    return checkpoint
