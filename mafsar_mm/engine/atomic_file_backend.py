"""Atomic writes for local files (checkpoints, ``last_checkpoint``, dumps).

MMEngine 0.10.7 serialises a checkpoint into memory and hands the bytes to
the file backend of the path (``mmengine.runner.checkpoint.save_checkpoint``
calls ``get_file_backend(filename).put(...)``); for local paths that is
``LocalBackend.put``, which opens the final file with ``'wb'`` and writes
into it. A run killed (or a disk filling up) in the middle leaves a
truncated checkpoint under its final name. :class:`AtomicLocalBackend`
writes to a temporary file in the same directory, flushes it to disk and
then ``os.replace``-s it onto the final name, so a checkpoint file is either
the complete old one, the complete new one, or absent.

Nothing is replaced at import: the backend is added under its own name,
:data:`ATOMIC_BACKEND` (``'atomic_local'``, no path prefix, so MMEngine's
``'local'`` backend stays the default for every path), and a config opts
in with ``CheckpointHook(backend_args=dict(backend='atomic_local'))``, as
``configs/_base_/default_runtime.py`` does.
"""
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend

from mafsar_mm.utils.atomic_files import atomic_write as _atomic_write
from mafsar_mm.utils.workdir_lock import remove_stale_tmp_files


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``filepath`` atomically
    (:func:`mafsar_mm.utils.atomic_files.atomic_write`), then remove the
    temporary files a killed run left in the folder, if it is a work dir
    this run holds the lock of.

    Args:
        data (bytes | str): Content; ``str`` is encoded with ``encoding``.
        filepath (str | Path): Destination; its directory is created if
            needed.
        encoding (str): Encoding of ``str`` data. Defaults to 'utf-8'.
    """
    _atomic_write(data, filepath, encoding=encoding)
    remove_stale_tmp_files(osp.dirname(osp.abspath(str(filepath))))


class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put``/``put_text`` write atomically.

    Registered in MMEngine's file backends as :data:`ATOMIC_BACKEND`
    (without a prefix); ``CheckpointHook(backend_args=dict(backend=
    'atomic_local'))`` then saves every checkpoint and ``last_checkpoint``
    through :func:`atomic_write`.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically (see
        :func:`atomic_write`)."""
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (see
        :func:`atomic_write`)."""
        atomic_write(obj, filepath, encoding=encoding)


#: Name of :class:`AtomicLocalBackend` in MMEngine's file backends.
ATOMIC_BACKEND = 'atomic_local'

# a new name next to MMEngine's; 'local' and the '' prefix stay untouched
register_backend(ATOMIC_BACKEND, AtomicLocalBackend)
