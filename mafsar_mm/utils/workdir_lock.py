"""One training run per work dir, and no stale temporary files in it.

Two runs writing into one work dir overwrite each other's checkpoints and
interleave their logs. :class:`WorkDirLock` makes a run own its work dir
through ``<work_dir>/run.lock``, a file the run keeps open with an
exclusive ``flock`` for its whole life and that records the owner's pid,
host, start time and command (for the message naming it). The record is
written and locked in a temporary file ``.run.lock.<12 hex>.tmp`` first,
then hard-linked to ``run.lock`` (atomic, fails if it exists), so no
other run ever sees the lock file unlocked or half-written. The lock file
is removed, then unlocked, when the run ends.

A second run finding ``run.lock`` tries to ``flock`` it without waiting.
If a process holds it, the run stops with :class:`WorkDirLockedError`
naming the first (or saying that its record is unreadable). If none does,
the lock is stale (the kernel drops the ``flock`` of a process killed with
``kill -9`` once its forked children, such as data loader workers, are
gone too) and is taken over with a warning, whatever the record holds
(garbage, empty, a dead pid). A readable record naming a process that
still runs is not taken over though (a lock written by a version without
``flock``): it is stale only if its process is gone (same host, pid not
running, or running but started later than the lock). On a file system
without file locks only that pid check remains.

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
import secrets
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


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _process_start(pid: int) -> Optional[float]:
    """Start time (seconds since boot) of a process, from ``/proc`` (Linux
    only; None elsewhere)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return int(fields[19]) / os.sysconf('SC_CLK_TCK')
    except (OSError, ValueError, IndexError):
        return None


def _describe(owner: dict) -> str:
    return (f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}, "
            f"started {owner.get('started', '?')}: "
            f"{owner.get('command', '?')}")


def _try_flock(fd: int) -> Optional[bool]:
    """Lock an open file (``flock``, exclusive, not waiting): True if
    locked, False if another open file holds it, None if the file system
    has no file locks."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _same_file(fd: int, path: str) -> bool:
    """Whether ``path`` still names the open file ``fd``."""
    try:
        st, fst = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def process_rank() -> int:
    """This process's global rank from the launcher's environment (0 when
    not distributed); known before ``torch.distributed`` is set up."""
    for var in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(var, '').isdigit():
            return int(os.environ[var])
    return 0


class WorkDirLock:
    """Exclusive ownership of a work dir by one process.

    Use as a context manager or call :meth:`acquire`/:meth:`release`; the
    lock is also released at interpreter exit.

    Args:
        work_dir (str): The work dir; created if missing.
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self.acquired = False
        self._fd = -1

    def _owner(self) -> dict:
        return dict(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.datetime.now().isoformat(timespec='seconds'),
            proc_start=_process_start(os.getpid()),
            command=' '.join([osp.basename(sys.executable)] + sys.argv))

    def _read(self, fd: int) -> dict:
        """The owner record of an open lock file; ``{}`` when it is empty
        or not a JSON object (unreadable)."""
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            data = b''
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
            owner = json.loads(data.decode())
        except (OSError, ValueError):
            return {}
        return owner if isinstance(owner, dict) else {}

    def _is_stale(self, owner: dict) -> bool:
        if owner.get('host') != socket.gethostname():
            return False  # cannot tell: another machine
        pid = owner.get('pid')
        if not isinstance(pid, int) or not _pid_running(pid):
            return True
        start = _process_start(pid)
        recorded = owner.get('proc_start')
        # the pid was reused by a process started after the lock's owner
        return (start is not None and recorded is not None
                and abs(start - recorded) > 1.0)

    def _fail(self, e: OSError) -> WorkDirLockedError:
        return WorkDirLockedError(
            f'Cannot write to the work dir {self.work_dir}: {e.strerror}. '
            'Choose a writable --work-dir with free space.')

    def _make_record(self) -> Tuple[int, str]:
        """A temporary file beside the lock, flocked and holding this run's
        owner record (so ``run.lock`` is never seen unlocked or empty)."""
        tmp = osp.join(self.work_dir,
                       f'.{LOCK_NAME}.{secrets.token_hex(6)}.tmp')
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        except OSError as e:
            raise self._fail(e) from None
        try:
            _try_flock(fd)  # no file locks here: the pid check remains
            os.write(fd, json.dumps(self._owner()).encode())
        except OSError as e:
            os.close(fd)
            os.remove(tmp)
            raise self._fail(e) from None
        return fd, tmp

    def _check_existing(self) -> bool:
        """Deal with an existing ``run.lock``: raise if a live run holds
        it, remove it if stale. Returns False if it was gone already."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        except OSError as e:
            raise self._fail(e) from None
        try:
            free = _try_flock(fd)
            if not _same_file(fd, self.path):
                return False  # released or replaced meanwhile: look again
            other = self._read(fd)
            described = (f'({_describe(other)})' if other else
                         f'(its record {self.path} is unreadable)')
            # free: no process holds it; a readable record naming a live
            # process may still be a lock of a version without flock
            if free is False or not (free and not other
                                     or other and self._is_stale(other)):
                raise WorkDirLockedError(
                    f'The work dir {self.work_dir} is in use by another '
                    f'run {described}. Wait for it to end or choose another '
                    '--work-dir; if that run is gone, delete '
                    f'{self.path}.') from None
            print_log(
                f'Taking over the work dir {self.work_dir} from a run that '
                f'is gone {described}.',
                logger='current',
                level=30)
            try:  # while holding its flock: nobody else replaces it
                os.remove(self.path)
            except FileNotFoundError:
                pass
            return True
        finally:
            os.close(fd)

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
        fd, tmp = self._make_record()
        try:
            for _ in range(5):
                try:
                    os.link(tmp, self.path)  # atomic; fails if it exists
                except FileExistsError:
                    self._check_existing()
                    continue
                except FileNotFoundError:
                    # the holder removed our temporary file as a leftover
                    os.close(fd)
                    fd = -1
                    fd, tmp = self._make_record()
                    continue
                except OSError as e:
                    raise self._fail(e) from None
                self._fd = fd
                self.acquired = True
                _held.add(osp.realpath(self.work_dir))
                atexit.register(self.release)
                return self
        finally:
            try:
                os.remove(tmp)
            except OSError:
                pass
            if not self.acquired and fd >= 0:
                os.close(fd)
        raise WorkDirLockedError(
            f'Could not lock the work dir {self.work_dir}: other runs '
            'keep taking it. Choose another --work-dir.')

    def release(self) -> None:
        """Remove the lock file if this process holds it, then unlock."""
        if not self.acquired:
            return
        self.acquired = False
        _held.discard(osp.realpath(self.work_dir))
        if _same_file(self._fd, self.path):
            try:
                os.remove(self.path)
            except OSError:
                pass
        os.close(self._fd)

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
