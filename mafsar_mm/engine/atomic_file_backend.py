"""Atomic writes for checkpoints, ``last_checkpoint`` and dumps.

MMEngine 0.10.7 hands a serialised checkpoint to the file backend of the
path, and ``LocalBackend.put`` writes into the final file: a kill or a
full disk in the middle leaves a truncated checkpoint under its name.
:class:`AtomicLocalBackend` writes a temporary file, syncs it and renames
it onto the name. It is added under its own name, :data:`ATOMIC_BACKEND`
(no path prefix: MMEngine's ``'local'`` stays the default), and configs
opt in with ``backend_args=dict(backend='atomic_local')``.
"""
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend

from mafsar_mm.utils.atomic_files import atomic_write as _atomic_write
from mafsar_mm.utils.workdir_lock import remove_stale_tmp_files

#: Name of :class:`AtomicLocalBackend` in MMEngine's file backends.
ATOMIC_BACKEND = 'atomic_local'


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """:func:`mafsar_mm.utils.atomic_files.atomic_write`, then settle the
    temporary files a killed run left in the folder if this run holds its
    work-dir lock (:func:`remove_stale_tmp_files`)."""
    _atomic_write(data, filepath, encoding=encoding)
    remove_stale_tmp_files(osp.dirname(osp.abspath(str(filepath))))


class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put``/``put_text`` use
    :func:`atomic_write`."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write(obj, filepath, encoding=encoding)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend)
