"""Errors caused by inputs (not by bugs), and how the tools report them.

Every error a user can fix by changing an input (a file, a config value, a
command-line option, the work dir) derives from :class:`UserError`, and
the command-line tools run their ``main`` through :func:`run_main`, which
prints such an error as one ``error: ...`` line on stderr and exits with
status 1. ``--debug`` on the command line or ``MAFSAR_DEBUG=1`` in the
environment shows the stack trace instead. File-system errors (``OSError``:
missing files, a read-only or full disk) are reported the same way.

The exceptions survive process boundaries: they pickle with their
attributes (multiprocessing, ``all_gather_object``) and can be rebuilt
from their message alone, which is what PyTorch's DataLoader does with an
exception raised in a worker (``torch/_utils.py``,
``ExceptionWrapper.reraise``: ``exc_type(msg)``).
"""
import errno
import os
import re
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

#: Environment variable: ``1`` makes the tools show stack traces.
DEBUG_ENV = 'MAFSAR_DEBUG'

#: The text PyTorch puts between a worker's error and its traceback.
_WORKER_TRACE = 'Original Traceback (most recent call last):'
_QUALNAME = re.compile(r'^[A-Za-z_][\w.]*(Error|Exception|Warning)?: ')


def _rebuild(cls: type, args: tuple, state: dict) -> BaseException:
    """Recreate an exception without calling its ``__init__``."""
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class UserError(Exception):
    """An input the user can fix; the message says what and how.

    Subclasses may take any ``__init__`` arguments: pickling does not
    call ``__init__`` (see :meth:`__reduce__`), but a subclass must also
    accept its message as the only argument (see the module docstring).
    """

    def __reduce__(self):
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class InputError(UserError, ValueError):
    """A bad value in a config, annotation or class-name file, episode
    setting or command-line option. A ``ValueError``, so callers that
    catch ``ValueError`` keep working."""


def is_debug(argv: Optional[Sequence[str]] = None) -> bool:
    """Whether stack traces were asked for (``--debug`` in ``argv`` or
    ``MAFSAR_DEBUG`` set to anything but ``0``/empty).

    Args:
        argv (Sequence[str], optional): Command-line arguments. Defaults
            to None (``sys.argv[1:]``).
    """
    argv = sys.argv[1:] if argv is None else argv
    return '--debug' in argv or os.environ.get(DEBUG_ENV,
                                               '0').strip() not in ('', '0')


def _os_error_line(exc: OSError) -> str:
    if exc.strerror is None:
        return str(exc)
    line = exc.strerror + (f': {exc.filename}' if exc.filename else '')
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        line += ' (free some space or choose another --work-dir/output)'
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        line += ' (choose a writable --work-dir/output)'
    return line


def format_error(exc: BaseException) -> str:
    """The one-line message of a user error.

    An exception re-raised by the DataLoader carries the worker's
    traceback in its message; only the original message is kept.

    Args:
        exc (BaseException): The error.

    Returns:
        str: One line (newlines joined with spaces).
    """
    if isinstance(exc, OSError) and not isinstance(exc, UserError):
        text = _os_error_line(exc)
    else:
        text = str(exc)
    if _WORKER_TRACE in text:
        lines = [
            line for line in text.split(_WORKER_TRACE, 1)[1].splitlines()
            if line.strip() and not line.startswith(' ')
        ]
        if lines:
            text = _QUALNAME.sub('', lines[-1], count=1)
    return ' '.join(text.split()) or type(exc).__name__


# Ctrl-C and ``kill``: one line, not a stack trace.
# :func:`run_main` runs a tool's ``main`` under
# :func:`sigterm_raises`, so SIGTERM (``kill``, a scheduler ending a job,
# torchrun stopping its ranks) unwinds the program like Ctrl-C
# (SIGINT, ``KeyboardInterrupt``): ``finally`` blocks and ``atexit`` run,
# so the work-dir lock is released, and :func:`interrupted_line` says what
# happened and how to go on. The exit status is the shell's, 128 + the
# signal number (130 for SIGINT, 143 for SIGTERM). Standard library only
# (MMEngine is looked up lazily), so the module still loads on its own.


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


#: What :func:`run_main` reports as one line.
USER_ERROR_TYPES = (UserError, OSError)


def run_main(main: Callable[[], Optional[int]],
             argv: Optional[Sequence[str]] = None) -> int:
    """Run a tool's ``main`` and turn user errors into one line.

    Args:
        main (callable): The tool's entry point; returns an exit status or
            None (0).
        argv (Sequence[str], optional): The tool's arguments, searched for
            ``--debug``. Defaults to None (``sys.argv[1:]``).

    Returns:
        int: ``main``'s status, or 1 after a user error (printed as
        ``error: <message>`` on stderr), or 130 / 143 after Ctrl-C /
        SIGTERM (one line, see :func:`sigterm_raises`). With
        ``--debug`` or ``MAFSAR_DEBUG=1`` the error propagates with its
        stack trace.
    """
    try:
        with sigterm_raises():
            return main() or 0
    except BaseException as exc:
        # Ctrl-C or SIGTERM, also when a library turned it into another
        # error (MMEngine's config formatting does, during a save)
        interrupt = find_interrupt(exc)
        if is_debug(argv) or (interrupt is None
                              and not isinstance(exc, USER_ERROR_TYPES)):
            raise
        if interrupt is not None:
            print(interrupted_line(interrupt), file=sys.stderr, flush=True)
            return exit_status(interrupt)
        print(f'error: {format_error(exc)}', file=sys.stderr, flush=True)
        return 1


def add_debug_argument(parser) -> None:
    """Add ``--debug`` (show stack traces) to an ``argparse`` parser."""
    parser.add_argument(
        '--debug',
        action='store_true',
        help=f'show the stack trace of errors (also: {DEBUG_ENV}=1)')
