"""One training run per work dir, and no stale temporary files in it.

Two runs writing into one work dir overwrite each other's checkpoints and
interleave their logs. :class:`WorkDirLock` makes a run own its work dir:
it creates ``<work_dir>/run.lock`` exclusively (``O_CREAT | O_EXCL``) with
the owner's pid, host, start time and command, and removes it when the
run ends. A second run stops with :class:`WorkDirLockedError` naming the
first. A lock whose process is gone (same host, pid not running, or
running but started later than the lock) is stale: it is taken over with
a warning, so a run killed with ``kill -9`` does not block the next one.

Checkpoints are written to ``.<name>.<12 hex>.tmp`` and renamed
(:func:`mafsar_mm.engine.atomic_write`); a killed run leaves such files.
The lock holder removes them when it starts and after every successful
save (:func:`remove_stale_tmp_files`).
"""
import atexit
import datetime
import json
import os
import os.path as osp
import re
import socket
import sys
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from .errors import UserError

LOCK_NAME = 'run.lock'

#: Names :func:`mafsar_mm.engine.atomic_write` gives its temporary files.
TMP_NAME = re.compile(r'^\..+\.[0-9a-f]{12}\.tmp$')

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

    def _owner(self) -> dict:
        return dict(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.datetime.now().isoformat(timespec='seconds'),
            proc_start=_process_start(os.getpid()),
            command=' '.join([osp.basename(sys.executable)] + sys.argv))

    def _read(self) -> Optional[dict]:
        try:
            with open(self.path) as f:
                owner = json.load(f)
            return owner if isinstance(owner, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # half-written or not ours: treat as unknown owner

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
        owner = self._owner()
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                             0o644)
            except FileExistsError:
                other = self._read()
                if other is None:
                    continue  # released meanwhile: try again
                if not other or not self._is_stale(other):
                    raise WorkDirLockedError(
                        f'The work dir {self.work_dir} is in use by another '
                        f'run ({_describe(other)}). Wait for it to end or '
                        'choose another --work-dir; if that run is gone, '
                        f'delete {self.path}.') from None
                print_log(
                    f'Taking over the work dir {self.work_dir} from a run '
                    f'that is gone ({_describe(other)}).',
                    logger='current',
                    level=30)
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            except OSError as e:
                raise WorkDirLockedError(
                    f'Cannot write to the work dir {self.work_dir}: '
                    f'{e.strerror}. Choose a writable --work-dir.') from None
            try:
                with os.fdopen(fd, 'w') as f:
                    json.dump(owner, f)
            except OSError as e:
                os.remove(self.path)
                raise WorkDirLockedError(
                    f'Cannot write to the work dir {self.work_dir}: '
                    f'{e.strerror}. Choose a writable --work-dir with free '
                    'space.') from None
            self.acquired = True
            _held.add(osp.realpath(self.work_dir))
            atexit.register(self.release)
            return self
        raise WorkDirLockedError(
            f'Could not lock the work dir {self.work_dir}: other runs '
            'keep taking it. Choose another --work-dir.')

    def release(self) -> None:
        """Remove the lock file if this process holds it."""
        if not self.acquired:
            return
        self.acquired = False
        _held.discard(osp.realpath(self.work_dir))
        owner = self._read()
        if owner and owner.get('pid') == os.getpid():
            try:
                os.remove(self.path)
            except OSError:
                pass

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def remove_stale_tmp_files(folder: str) -> List[Tuple[str, int]]:
    """Remove leftover temporary checkpoint files of a work dir this
    process holds the lock of (nothing else writes there, so any such file
    is stale). Does nothing for other folders.

    Args:
        folder (str): A directory.

    Returns:
        list[tuple[str, int]]: The removed files and their sizes.
    """
    if osp.realpath(folder) not in _held:
        return []
    removed = []
    for name in os.listdir(folder):
        path = osp.join(folder, name)
        if TMP_NAME.match(name) and osp.isfile(path):
            try:
                size = osp.getsize(path)
                os.remove(path)
            except OSError:
                continue
            removed.append((path, size))
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
