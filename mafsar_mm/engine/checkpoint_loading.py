"""Safe loading of local checkpoints, and finding the one to resume from.

torch >= 2.6 loads with ``weights_only=True`` by default, which rejects
stock MMEngine training checkpoints: their message hub pickles
``HistoryBuffer`` objects (with bound methods, i.e. ``builtins.getattr``)
and numpy arrays. Checkpoints written by our Runner configs contain only
tensors and plain Python types instead (:class:`SlimCheckpointHook` stores
the message hub with :func:`to_weights_only_types` and restores it with
:func:`from_weights_only_types`), so they load with ``weights_only=True``.

:func:`load_local_checkpoint` always tries ``weights_only=True`` first.
It is MMEngine's loader for local files only inside
:func:`safe_local_loading` (which :class:`SafeCheckpointIOHook` enters
while a Runner loads ``load_from``/``--resume``); importing ``mafsar_mm``
leaves MMEngine's loaders as they are. Full
unpickling is a separate, explicit step: it runs code stored in the file,
so it is only done for files you trust, when you ask for it with
``MAFSAR_WEIGHTS_ONLY=0`` (or ``weights_only=False``); otherwise loading
stops with :class:`UnsafeCheckpointError` naming the offending types.
"""
import glob
import os
import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import CheckpointLoader

from mafsar_mm.utils.atomic_files import is_complete_torch_file
from mafsar_mm.utils.errors import InputError, UserError

#: Environment variable: ``0`` allows full unpickling of checkpoints that
#: ``weights_only=True`` rejects (trusted files only); ``1`` (default)
#: refuses.
WEIGHTS_ONLY_ENV = 'MAFSAR_WEIGHTS_ONLY'

_TYPE_TAG = '__mafsar_type__'
_CKPT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


class CheckpointError(UserError, RuntimeError):
    """A checkpoint that cannot be used; the message says why and what to
    do."""


class UnsafeCheckpointError(CheckpointError):
    """The file needs full unpickling, which was not allowed."""


class CorruptCheckpointError(CheckpointError):
    """The file is not a readable torch checkpoint (e.g. truncated)."""


def _allow_full_unpickling(weights_only: Optional[bool]) -> bool:
    if weights_only is not None:
        return not weights_only
    value = os.environ.get(WEIGHTS_ONLY_ENV, '1').strip()
    if value not in ('0', '1'):
        raise InputError(f'{WEIGHTS_ONLY_ENV} must be 0 or 1, got '
                         f'{value!r}')
    return value == '0'


def _first_line(exc: BaseException) -> str:
    """``'Type: first line of the message'`` (just the type if the
    message is empty, as for a bare ``EOFError``)."""
    lines = str(exc).strip().splitlines()
    return type(exc).__name__ + (f': {lines[0]}' if lines else '')


def _unsafe_globals(filename: str) -> list:
    try:
        return torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # only used to explain an error
        return []


def load_local_checkpoint(filename: str,
                          map_location=None,
                          weights_only: Optional[bool] = None) -> dict:
    """Load a local checkpoint with ``weights_only=True`` if possible.

    When ``torch.load(weights_only=True)`` rejects the file, it is loaded
    with full unpickling only if that is explicitly allowed (argument
    ``weights_only=False``, or ``MAFSAR_WEIGHTS_ONLY=0`` when the argument
    is None), with a warning. Full unpickling can run arbitrary code from
    the file: allow it only for checkpoints you trust.

    Args:
        filename (str): Checkpoint path.
        map_location: As for ``torch.load``. Defaults to None.
        weights_only (bool, optional): True refuses full unpickling, False
            allows it. Defaults to None (read ``MAFSAR_WEIGHTS_ONLY``,
            which defaults to 1: refuse).

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If the file does not exist.
        CorruptCheckpointError: If the file is not a readable checkpoint.
        UnsafeCheckpointError: If it needs full unpickling and that is not
            allowed.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint not found: {filename}')
    if osp.getsize(filename) == 0:
        raise CorruptCheckpointError(
            f'{filename} is empty (0 bytes), not a torch checkpoint; it '
            'was probably cut off while being copied or written.')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        reason = e
    except (RuntimeError, EOFError, zipfile.BadZipFile) as e:
        if is_intact_checkpoint(filename):
            raise  # e.g. a CUDA checkpoint without CUDA: torch says so
        raise CorruptCheckpointError(
            f'{filename} is not a readable torch checkpoint (truncated or '
            f'corrupt?): {_first_line(e)}') from None
    if not _allow_full_unpickling(weights_only):
        found = _unsafe_globals(filename)
        raise UnsafeCheckpointError(
            f'{filename} cannot be loaded with torch.load(weights_only='
            f'True): it pickles types outside the allowed set '
            f'({", ".join(found) or _first_line(reason)}). '
            'Checkpoints saved by mafsar_mm configs do not; this one was '
            'probably written by another tool or an older version. If you '
            f'trust the file, set {WEIGHTS_ONLY_ENV}=0 to load it with '
            'full unpickling (this can run code stored in the file).')
    print_log(
        f'Loading {filename} with full unpickling (weights_only=False) '
        f'because {WEIGHTS_ONLY_ENV}=0 allows it. Only do this for '
        'checkpoints you trust.',
        logger='current',
        level=30)
    return torch.load(filename, map_location=map_location, weights_only=False)


@contextmanager
def safe_local_loading() -> Iterator[None]:
    """Within the block, MMEngine loads local files with
    :func:`load_local_checkpoint`; MMEngine's own loader is put back on
    leaving it (also on errors)."""
    # CheckpointLoader keeps one loader per path prefix, '' for local paths
    # (mmengine/runner/checkpoint.py, CheckpointLoader.register_scheme)
    previous = CheckpointLoader._schemes.get('')
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
    try:
        yield
    finally:
        if previous is not None:
            CheckpointLoader.register_scheme(
                prefixes='', loader=previous, force=True)


def _array_to_plain(array: np.ndarray) -> dict:
    try:
        data = torch.from_numpy(np.ascontiguousarray(array).copy())
    except TypeError:  # object, str, ... dtypes
        data = array.tolist()
    return {_TYPE_TAG: 'ndarray', 'data': data, 'dtype': str(array.dtype)}


def to_weights_only_types(obj: Any) -> Any:
    """Replace the numpy and MMEngine objects of a message hub or meta
    dict by tensors and plain types that ``weights_only=True`` accepts.

    ``HistoryBuffer`` and ``np.ndarray`` become tagged dicts (exact:
    arrays of numeric dtypes are kept as tensors of the same dtype), numpy
    scalars become Python scalars. :func:`from_weights_only_types` undoes
    it.

    Args:
        obj: A (nested) dict, list, tuple or leaf.

    Returns:
        The converted object (containers are copied).
    """
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {
            _TYPE_TAG: 'HistoryBuffer',
            'log_history': _array_to_plain(log),
            'count_history': _array_to_plain(count),
            'max_length': int(obj.max_length)
        }
    if isinstance(obj, np.ndarray):
        return _array_to_plain(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        out = type(obj)() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            out[key] = to_weights_only_types(value)
        return out
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return type(obj)(to_weights_only_types(v) for v in obj)
    return obj


def from_weights_only_types(obj: Any) -> Any:
    """Inverse of :func:`to_weights_only_types`.

    Args:
        obj: A converted (nested) object; unconverted parts pass through.

    Returns:
        The object with ``HistoryBuffer`` and ``np.ndarray`` restored.
    """
    if isinstance(obj, dict):
        tag = obj.get(_TYPE_TAG)
        if tag == 'ndarray':
            data = obj['data']
            if isinstance(data, torch.Tensor):
                return data.numpy()
            return np.array(data, dtype=obj['dtype'])
        if tag == 'HistoryBuffer':
            return HistoryBuffer(
                from_weights_only_types(obj['log_history']),
                from_weights_only_types(obj['count_history']),
                obj['max_length'])
        out = type(obj)() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            out[key] = from_weights_only_types(value)
        return out
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return type(obj)(from_weights_only_types(v) for v in obj)
    return obj


def is_intact_checkpoint(path: str) -> bool:
    """Whether ``path`` is a complete torch zip checkpoint (a truncated
    file lacks the zip directory at its end). Cheap: nothing is
    unpickled (:func:`mafsar_mm.utils.atomic_files.is_complete_torch_file`,
    the test the start-up clean-up of a work dir uses too)."""
    return is_complete_torch_file(path)


def _inside_work_dir(recorded: str, work_dir: str, record: str) -> str:
    """``recorded`` when it lies in ``work_dir``; else its namesake in
    ``work_dir`` (a work dir copied to branch an experiment records the
    original's absolute paths), with a warning.

    Raises:
        CheckpointError: If the record points outside ``work_dir`` and
            ``work_dir`` has no file of that name: resuming would
            silently train from another run's weights.
    """
    folder = osp.realpath(work_dir)
    if osp.dirname(osp.realpath(recorded)) == folder:
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

    The path recorded in ``work_dir/last_checkpoint`` when that file is
    intact (a record pointing outside ``work_dir`` is read as the file of
    that name inside it); otherwise (record missing, empty, pointing at a
    missing or truncated file) the newest intact
    ``iter_*.pth``/``epoch_*.pth`` in ``work_dir``, with a warning.

    Args:
        work_dir (str): The run's work directory.

    Returns:
        str | None: The checkpoint, or None when the work dir has no
        checkpoint and no ``last_checkpoint`` (training starts from
        scratch).

    Raises:
        CorruptCheckpointError: If ``last_checkpoint`` exists but neither
            it nor any other checkpoint in ``work_dir`` is intact.
    """
    recorded = None
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            recorded = f.read().strip() or None
        if recorded is not None:
            recorded = _inside_work_dir(recorded, work_dir, record)
        if recorded is not None and is_intact_checkpoint(recorded):
            return recorded
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _CKPT_NAME.match(osp.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    for _, path in sorted(found, reverse=True):
        if is_intact_checkpoint(path):
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
