"""``'atomic_local'``: MMEngine's ``LocalBackend`` with atomic writes.

``LocalBackend.put`` writes into the final file, so a kill or a full disk
mid-write leaves a truncated checkpoint under its name. Configs opt in
with ``backend_args=dict(backend='atomic_local')`` (MMEngine's ``'local'``
stays the default).
"""
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend

from mafsar_mm.utils import atomic_files
from mafsar_mm.utils.workdir_lock import remove_stale_tmp_files

ATOMIC_BACKEND = 'atomic_local'


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """:func:`mafsar_mm.utils.atomic_files.atomic_write`, then settle the
    temporary files killed runs left in the folder if this run holds its
    work-dir lock (:func:`remove_stale_tmp_files`)."""
    atomic_files.atomic_write(data, filepath, encoding=encoding)
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
