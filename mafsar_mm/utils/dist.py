"""Multi-process set-up for machines without CUDA, and a finite wait.

A process group waits ``env_cfg.dist_cfg.timeout`` seconds (default
:data:`DEFAULT_TIMEOUT`) for a collective operation; a rank that stops
answering (``kill -STOP``, a hung machine) then makes the others fail
instead of waiting forever. :func:`dist_timeout_reported` turns that
failure into one line naming the ranks that did not answer. Those are
found from heartbeats: on the gloo path each process counts up a key in
the rendezvous store (torchrun's agent, or rank 0) every
:data:`HEARTBEAT_INTERVAL` seconds from a daemon thread, and a rank whose
count stands still did not answer.
"""
import datetime
import math
import os
import re
import threading
import time
from contextlib import contextmanager
from typing import Iterator, List, Optional, Union

import torch
import torch.distributed as dist
from mmengine.config import Config

from mafsar_mm.utils.errors import InputError, UserError

#: Seconds a collective may wait for the other ranks (``dist_cfg.timeout``
#: in ``configs/_base_/default_runtime.py``; MMEngine's example value).
DEFAULT_TIMEOUT = 1800

#: Seconds between two heartbeats of a process.
HEARTBEAT_INTERVAL = 1.0

#: Seconds a heartbeat check watches the counts.
HEARTBEAT_WINDOW = 5.0

_HEARTBEAT_KEY = 'mafsar_mm/heartbeat/{}'

# the heartbeat thread of this process, once started
_heartbeat: Optional[threading.Thread] = None

# the messages of timed-out operations: gloo's transport
# (third_party/gloo/gloo/transport/tcp/{pair,unbound_buffer}.cc), a group
# closed after one, NCCL's watchdog and c10d's stores
_TIMEOUT_TEXT = re.compile(
    r'Timed out waiting \d+ ?ms|timeout caused pair closure|'
    r'collective operation timeout|Socket Timeout|wait timeout after',
    re.IGNORECASE)


class DistTimeoutError(UserError, RuntimeError):
    """A collective operation waited longer than the process-group
    timeout (one ``error:`` line from the tools, exit status 1)."""


def dist_timeout(cfg: Config) -> float:
    """The process-group timeout of ``cfg`` in seconds, checked.

    Args:
        cfg (Config): The run's config (``env_cfg.dist_cfg.timeout``).

    Returns:
        float: The timeout; :data:`DEFAULT_TIMEOUT` when not set.

    Raises:
        InputError: When the value is not a positive number of seconds.
    """
    dist_cfg = (cfg.get('env_cfg') or {}).get('dist_cfg') or {}
    timeout = dist_cfg.get('timeout', DEFAULT_TIMEOUT)
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout) or timeout <= 0):
        raise InputError(
            f'env_cfg.dist_cfg.timeout must be a positive number of '
            f'seconds (default {DEFAULT_TIMEOUT}), got {timeout!r}')
    return float(timeout)


def setup_multi_process(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` (and the process group) for the chosen launcher.

    MMEngine's PyTorch launcher calls ``torch.cuda.set_device`` and wraps
    the model with ``device_ids=[LOCAL_RANK]``; neither works without
    CUDA. On such machines a gloo process group is created here, before
    ``Runner.from_cfg``, with the timeout ``env_cfg.dist_cfg.timeout``,
    and DDP is built with ``device_ids=None``; each process then sends
    heartbeats (see the module docstring). With CUDA the stock path is
    left alone (MMEngine's ``init_dist`` passes ``dist_cfg.timeout`` on).

    Args:
        cfg (Config): The run's config; ``launcher``, ``env_cfg`` and
            ``model_wrapper_cfg`` are set in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or
            ``'mpi'``.

    Raises:
        InputError: For a launcher other than ``'pytorch'`` without CUDA,
            or a bad ``env_cfg.dist_cfg.timeout``.
    """
    cfg.launcher = launcher
    timeout = dist_timeout(cfg)
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise InputError(
            f'Without CUDA only --launcher pytorch (torchrun, mim, '
            f'dist_train.sh) is supported for several processes, got '
            f'{launcher!r}')
    os.environ.setdefault('LOCAL_RANK', '0')
    env_cfg = cfg.get('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    dist_cfg['timeout'] = timeout
    cfg.env_cfg = env_cfg
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            init_method='env://',
            timeout=datetime.timedelta(seconds=timeout))
        start_heartbeat(dist.get_rank())
    wrapper = dict(cfg.get('model_wrapper_cfg', None) or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def _store_client(timeout: float) -> dist.TCPStore:
    """A client of the rendezvous store (``MASTER_ADDR:MASTER_PORT``)."""
    return dist.TCPStore(
        os.environ['MASTER_ADDR'],
        int(os.environ['MASTER_PORT']),
        is_master=False,
        timeout=datetime.timedelta(seconds=timeout),
        wait_for_workers=False)


def start_heartbeat(rank: int,
                    interval: float = HEARTBEAT_INTERVAL) -> threading.Thread:
    """Count up this rank's heartbeat key every ``interval`` seconds.

    A daemon thread with its own store client; it ends quietly when the
    store goes away (the launcher ended the job).

    Args:
        rank (int): This process's rank.
        interval (float): Seconds between beats.

    Returns:
        threading.Thread: The started thread.
    """
    store = _store_client(max(10.0, 2 * interval))
    key = _HEARTBEAT_KEY.format(rank)

    def beat() -> None:
        try:
            while True:
                store.add(key, 1)
                time.sleep(interval)
        except Exception:  # the store is gone: nothing left to tell
            return

    global _heartbeat
    thread = threading.Thread(
        target=beat, name='mafsar_mm-heartbeat', daemon=True)
    thread.start()
    _heartbeat = thread
    return thread


def silent_ranks(world_size: int,
                 window: Optional[float] = None) -> Optional[List[int]]:
    """Ranks whose heartbeat stood still during ``window`` seconds.

    Args:
        world_size (int): Number of processes.
        window (float, optional): Seconds to watch the counts. Defaults
            to None (:data:`HEARTBEAT_WINDOW`).

    Returns:
        list[int] | None: The silent ranks, or None when the store did
        not answer either (within ``window + 5`` seconds).
    """
    window = HEARTBEAT_WINDOW if window is None else window
    keys = [_HEARTBEAT_KEY.format(r) for r in range(world_size)]
    found = []

    def check() -> None:
        try:
            store = _store_client(window)
            before = [store.add(k, 0) for k in keys]
            time.sleep(window)
            after = [store.add(k, 0) for k in keys]
        except Exception:  # the store does not answer
            return
        found.append([r for r in range(world_size) if after[r] == before[r]])

    # a stopped store host accepts connections but never replies, and
    # the client then waits past its own timeout: check in a daemon
    # thread, given up after a deadline
    thread = threading.Thread(
        target=check, name='mafsar_mm-heartbeat-check', daemon=True)
    thread.start()
    thread.join(window + 5)
    return found[0] if found else None


def is_dist_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) is a timed-out
    collective or store operation."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, RuntimeError) and _TIMEOUT_TEXT.search(str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def timeout_line(timeout: float, rank: int, world_size: int,
                 silent: Union[List[int], str, None]) -> str:
    """The one line for a timed-out collective (without ``error:``).

    Args:
        timeout (float): The process-group timeout in seconds.
        rank (int): The rank that saw the timeout.
        world_size (int): Number of processes.
        silent (list[int] | str | None): What :func:`silent_ranks`
            found, or ``'unknown'`` when no heartbeats were sent (the CUDA
            path).

    Returns:
        str: The message.
    """
    what = 'process-group timeout, env_cfg.dist_cfg.timeout'
    if silent == 'unknown':
        return (f'rank {rank}: a collective operation waited more than '
                f'{timeout:g} s ({what}): another rank stopped answering '
                'or is slower than the timeout allows; stopping.')
    others = [r for r in silent or [] if r != rank]
    if others:
        names = ', '.join(str(r) for r in others)
        subject = (f'rank {names} did' if len(others) == 1 else
                   f'ranks {names} did')
        return (f'{subject} not answer within {timeout:g} s ({what}); '
                'stopping.')
    if silent is None:
        store = '{}:{}'.format(
            os.environ.get('MASTER_ADDR', '?'),
            os.environ.get('MASTER_PORT', '?'))
        return (f'rank {rank}: a collective operation waited more than '
                f'{timeout:g} s ({what}) and the rendezvous store at '
                f'{store} does not answer either (its host, rank 0 or '
                'the launcher, has stopped); stopping.')
    return (f'rank {rank}: a collective operation waited more than '
            f'{timeout:g} s ({what}) although all {world_size} ranks are '
            'running: one is slower than the timeout allows (raise it) or '
            'the ranks disagree on the operations; stopping.')


@contextmanager
def dist_timeout_reported(cfg: Config) -> Iterator[None]:
    """Within the block, a timed-out collective raises one
    :class:`DistTimeoutError` naming the ranks that did not answer.

    Args:
        cfg (Config): The run's config (for the timeout).
    """
    try:
        yield
    except Exception as exc:
        if not dist.is_initialized() or not is_dist_timeout(exc):
            raise
        rank, world_size = dist.get_rank(), dist.get_world_size()
        silent = 'unknown' if _heartbeat is None else silent_ranks(
            world_size)
        line = timeout_line(dist_timeout(cfg), rank, world_size, silent)
        raise DistTimeoutError(line) from exc
