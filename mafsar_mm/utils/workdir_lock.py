"""One training run per work dir, and no stale temporary files in it.

Two runs writing into one work dir overwrite each other's checkpoints and
interleave their logs. :class:`WorkDirLock` holds an exclusive
``fcntl.flock`` on ``<work_dir>/run.lock`` for the run's whole life (as
``tools/analysis/compare_methods.py`` locks its results); the file records
the owner's pid, host, start time and command for the message a second
run gets. The kernel drops the ``flock`` when the owner is gone (also
after ``kill -9``, once its forked data-loader workers are gone too), so a
lock file nobody holds is stale, whatever it records, and is taken over
with a warning.

Checkpoints are written to ``.<name>.<12 hex>.tmp`` and renamed
(:func:`mafsar_mm.engine.atomic_write`); a killed run leaves such files.
The lock holder settles them when it starts and after every successful
save (:func:`remove_stale_tmp_files`): a complete checkpoint the kill cut
off just before its rename is promoted, the rest removed.
"""
import atexit
import datetime
import fcntl
import json
import os
import os.path as osp
import re
import socket
import sys
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from .atomic_files import atomic_write, settle_tmp_files
from .errors import UserError

LOCK_NAME = 'run.lock'

#: Names of the checkpoints MMEngine's ``last_checkpoint`` records.
_STEP_CHECKPOINT = re.compile(r'^(?:iter|epoch)_\d+\.pth$')

#: Real paths of the work dirs this process holds the lock of.
_held: set = set()


class WorkDirLockedError(UserError, RuntimeError):
    """Another run owns the work dir, or it cannot be written."""


def process_rank() -> int:
    """This process's global rank from the launcher's environment (0 when
    not distributed); known before ``torch.distributed`` is set up."""
    for var in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(var, '').isdigit():
            return int(os.environ[var])
    return 0


def _describe(file, path: str) -> str:
    """``(pid ... on host, started ...: command)`` from a lock file's
    record, or ``(its record ... is unreadable)``."""
    file.seek(0)
    try:
        owner = json.loads(file.read())
    except ValueError:
        owner = None
    if not isinstance(owner, dict) or not owner:
        return f'(its record {path} is unreadable)'
    return (f"(pid {owner.get('pid', '?')} on {owner.get('host', '?')}, "
            f"started {owner.get('started', '?')}: "
            f"{owner.get('command', '?')})")


class WorkDirLock:
    """Exclusive ownership of a work dir by one process (``flock``).

    Use as a context manager or call :meth:`acquire`/:meth:`release`; the
    lock is also released at interpreter exit.

    Args:
        work_dir (str): The work dir; created if missing.
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self.acquired = False
        self._file = None

    def _fail(self, e: OSError) -> WorkDirLockedError:
        return WorkDirLockedError(
            f'Cannot write to the work dir {self.work_dir}: {e.strerror}. '
            'Choose a writable --work-dir with free space.')

    def _open_locked(self):
        """``(file, created)``: ``run.lock`` opened (``created`` if this
        call made it) and ``flock``-ed, or ``(None, False)`` if the file
        was removed or replaced meanwhile (its owner released it)."""
        flags = os.O_RDWR | os.O_CREAT
        try:
            try:
                fd, created = os.open(self.path, flags | os.O_EXCL,
                                      0o644), True
            except FileExistsError:
                fd, created = os.open(self.path, flags, 0o644), False
            file = open(fd, 'r+', encoding='utf-8', errors='replace')
        except OSError as e:
            raise self._fail(e) from None
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.path.samestat(os.stat(self.path), os.fstat(fd)):
                return file, created
        except BlockingIOError:
            described = _describe(file, self.path)
            file.close()
            raise WorkDirLockedError(
                f'The work dir {self.work_dir} is in use by another run '
                f'{described}. Wait for it to end or choose another '
                f'--work-dir; if that run is gone, delete {self.path}.'
            ) from None
        except FileNotFoundError:
            pass
        except OSError as e:  # e.g. a file system without locks
            file.close()
            raise self._fail(e) from None
        file.close()
        return None, False

    def acquire(self) -> 'WorkDirLock':
        """Take the lock.

        Raises:
            WorkDirLockedError: If a live run holds it, or the work dir
                cannot be created or written.
        """
        try:
            os.makedirs(self.work_dir, exist_ok=True)
        except OSError as e:
            raise WorkDirLockedError(
                f'Cannot create the work dir {self.work_dir}: {e.strerror}.'
                ' Choose a writable --work-dir.') from None
        file, created = None, False
        while file is None:
            file, created = self._open_locked()
        if not created:  # a lock file nobody holds
            print_log(
                f'Taking over the work dir {self.work_dir} from a run that '
                f'is gone {_describe(file, self.path)}.',
                logger='current',
                level=30)
        owner = dict(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.datetime.now().isoformat(timespec='seconds'),
            command=' '.join([osp.basename(sys.executable)] + sys.argv))
        try:
            file.seek(0)
            file.truncate()
            file.write(json.dumps(owner))
            file.flush()
        except OSError as e:
            file.close()
            raise self._fail(e) from None
        self._file, self.acquired = file, True
        _held.add(osp.realpath(self.work_dir))
        atexit.register(self.release)
        return self

    def release(self) -> None:
        """Remove the lock file (while still holding it), then unlock."""
        if not self.acquired:
            return
        self.acquired = False
        _held.discard(osp.realpath(self.work_dir))
        try:
            if os.path.samestat(
                    os.stat(self.path), os.fstat(self._file.fileno())):
                os.remove(self.path)
        except OSError:
            pass
        self._file.close()

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def remove_stale_tmp_files(folder: str) -> List[Tuple[str, int]]:
    """Settle the temporary files interrupted writes left in a work dir
    this process holds the lock of (nothing else writes there, so any
    such file is stale); does nothing for other folders.

    A complete checkpoint among them (the kill came between its write and
    its rename) is promoted to its name with a warning, and, for an
    ``iter_*``/``epoch_*`` checkpoint, recorded in ``last_checkpoint``:
    the rename and that record are what the interrupted save had left to
    do. The other files are removed (:func:`settle_tmp_files`).

    Args:
        folder (str): A directory.

    Returns:
        list[tuple[str, int]]: The removed files and their sizes.
    """
    if osp.realpath(folder) not in _held:
        return []
    promoted, removed = settle_tmp_files(folder)
    steps = [
        final for _, final in promoted
        if _STEP_CHECKPOINT.match(osp.basename(final))
    ]
    newest = max(steps, key=osp.getmtime) if steps else None
    for tmp, final in promoted:
        print_log(
            f'Promoted {osp.basename(tmp)} to {final}: a complete '
            'checkpoint an interrupted run had written but not yet '
            'renamed' +
            (' (last_checkpoint now names it).' if final == newest else '.'),
            logger='current',
            level=30)
    if newest is not None:
        atomic_write(newest, osp.join(folder, 'last_checkpoint'))
    return removed


def claim_work_dir(work_dir: str) -> Optional[WorkDirLock]:
    """Lock ``work_dir`` for this run (rank 0 only) and remove stale
    temporary files.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        WorkDirLock | None: The held lock (released at exit), or None on
        ranks other than 0.
    """
    if process_rank() != 0:
        return None
    lock = WorkDirLock(work_dir).acquire()
    removed = remove_stale_tmp_files(work_dir)
    if removed:
        size = sum(size for _, size in removed) / 2**20
        print_log(
            f'Removed {len(removed)} temporary files ({size:.1f} MiB) left '
            f'in {work_dir} by an interrupted run.',
            logger='current',
            level=30)
    return lock
