"""Ctrl-C and ``kill`` end a tool with one line, not a stack trace.

:func:`mafsar_mm.utils.errors.run_main` runs a tool's ``main`` under
:func:`sigterm_raises`, so SIGTERM (``kill``, a scheduler ending a job,
torchrun stopping its ranks) unwinds the program like Ctrl-C
(SIGINT, ``KeyboardInterrupt``): ``finally`` blocks and ``atexit`` run,
so the work-dir lock is released, and :func:`interrupted_line` says what
happened and how to go on. The exit status is the shell's, 128 + the
signal number (130 for SIGINT, 143 for SIGTERM).
"""
import os
import signal
import threading
from contextlib import contextmanager
from typing import Iterator, Optional


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's ``KeyboardInterrupt``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Interrupted` in this
    process (a forked child, e.g. a DataLoader worker, keeps the default
    action). Nothing is changed off the main thread or when SIGTERM
    already has a handler."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:  # a forked child: die as by default
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Interrupted(signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def find_interrupt(exc: BaseException) -> Optional[KeyboardInterrupt]:
    """``exc`` if it is Ctrl-C's or SIGTERM's exception, else the one
    it was raised while handling (``__context__``/``__cause__``), else
    None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def exit_status(exc: KeyboardInterrupt) -> int:
    """128 + the signal number: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + getattr(exc, 'signum', signal.SIGINT)


def interrupted_line(exc: KeyboardInterrupt) -> str:
    """One line: which signal, and where training stopped (from MMEngine's
    message hub, when a training loop ran)."""
    name = signal.Signals(getattr(exc, 'signum', signal.SIGINT)).name
    line = f'interrupted by {name}'
    try:
        from mmengine.logging import MessageHub
        hubs = MessageHub._instance_dict
        done = hubs and MessageHub.get_current_instance().get_info('iter')
    except Exception:  # pragma: no cover (no mmengine: nothing to add)
        done = None
    if isinstance(done, int):
        line += (f' after {done} training iterations; the saved '
                 'checkpoints are intact: continue with --resume')
    return line + '.'
