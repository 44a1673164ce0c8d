"""Write files atomically: a temporary file next to the target, renamed
onto it (``os.replace``) once complete.

A process killed (or a disk filling up) in the middle of a write then
leaves either the complete old file, the complete new one, or none,
never a truncated file under the final name. :func:`atomic_path` serves
writers that need a path (video writers), :func:`atomic_write` bytes and
text (checkpoints, through :class:`mafsar_mm.engine.AtomicLocalBackend`).
Only the standard library is used, so the module can be loaded on its own
(e.g. by the synthetic-data generator).

A run killed between the end of a write and the rename leaves a complete
temporary file; :func:`settle_tmp_files` promotes such a file when it is
a complete torch checkpoint (it is the newest write of its name) and
removes every other leftover.
"""
import os
import os.path as osp
import re
import uuid
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Tuple, Union

#: Names :func:`atomic_path` gives its temporary files (without
#: ``keep_suffix``): ``.<final name>.<12 hex>.tmp``.
TMP_NAME = re.compile(r'^\.(?P<final>.+)\.[0-9a-f]{12}\.tmp$')

#: Final names whose complete temporary files are promoted.
CHECKPOINT_SUFFIXES = ('.pth', )


@contextmanager
def atomic_path(filepath: Union[str, Path],
                keep_suffix: bool = False) -> Iterator[str]:
    """A temporary path to write ``filepath``'s content to; it is renamed
    onto ``filepath`` when the block ends without an error, removed
    otherwise (an existing ``filepath`` is then left untouched).

    Args:
        filepath (str | Path): Destination; its directory is created if
            needed.
        keep_suffix (bool): End the temporary name with ``filepath``'s
            extension (for writers that pick the format by it, e.g.
            ``cv2.VideoWriter``). Defaults to False (``.tmp``).

    Yields:
        str: The temporary path, in the same directory.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    suffix = osp.splitext(filepath)[1] if keep_suffix else ''
    tmp = osp.join(
        folder,
        f'.{osp.basename(filepath)}.{uuid.uuid4().hex[:12]}.tmp{suffix}')
    try:
        yield tmp
        os.replace(tmp, filepath)
    except BaseException as e:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(e, OSError) and e.strerror and not e.filename:
            # e.g. a full disk: say which file could not be written
            raise OSError(e.errno, e.strerror, filepath) from e
        raise
    _fsync_dir(folder)


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``filepath`` atomically (flushed and fsync-ed
    before the rename, see :func:`atomic_path`).

    Args:
        data (bytes | str): Content; ``str`` is encoded with ``encoding``.
        filepath (str | Path): Destination; its directory is created if
            needed.
        encoding (str): Encoding of ``str`` data. Defaults to 'utf-8'.
    """
    if isinstance(data, str):
        data = data.encode(encoding)
    with atomic_path(filepath) as tmp:
        # 'xb' honours the umask (unlike tempfile.mkstemp's 0600)
        with open(tmp, 'xb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def is_complete_torch_file(path: str) -> bool:
    """Whether ``path`` is a complete ``torch.save`` zip file (one cut
    off while being written lacks the zip directory at its end). Cheap:
    nothing is unpickled.

    Args:
        path (str): A file.
    """
    if not osp.isfile(path) or not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith('data.pkl') for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def settle_tmp_files(
        folder: str) -> Tuple[List[Tuple[str, str]], List[Tuple[str, int]]]:
    """Deal with the temporary files (:data:`TMP_NAME`) interrupted writes
    left in ``folder``; call it only where nothing is being written.

    A complete torch checkpoint (final name ending with one of
    :data:`CHECKPOINT_SUFFIXES`, :func:`is_complete_torch_file`) was cut
    off between its write and its rename: it is the newest write of its
    name, so it is renamed onto that name (replacing an older version).
    Every other leftover (cut off mid-write, or not a checkpoint) is
    removed.

    Args:
        folder (str): A directory.

    Returns:
        tuple[list[tuple[str, str]], list[tuple[str, int]]]: The promoted
        files as ``(temporary, final)`` paths, and the removed files with
        their sizes.
    """
    promoted, removed = [], []
    for name in sorted(os.listdir(folder)):
        match = TMP_NAME.match(name)
        path = osp.join(folder, name)
        if match is None or not osp.isfile(path):
            continue
        final = osp.join(folder, match.group('final'))
        try:
            if final.endswith(CHECKPOINT_SUFFIXES) and \
                    is_complete_torch_file(path):
                os.replace(path, final)
                promoted.append((path, final))
            else:
                size = osp.getsize(path)
                os.remove(path)
                removed.append((path, size))
        except OSError:
            continue  # e.g. removed meanwhile by its writer
    if promoted:
        _fsync_dir(folder)
    return promoted, removed


def _fsync_dir(folder: str) -> None:
    """Persist a rename (best effort; not supported everywhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover (e.g. Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
