"""A quiet console for the tools: progress and results on the terminal, the
rest in the run's log file.

MMEngine's :class:`~mmengine.logging.MMLogger` writes every record to two
handlers, a console ``StreamHandler`` and the run's ``FileHandler``
(``<work_dir>/<timestamp>/<timestamp>.log``). A run of
``tools/train.py`` logs, before its first iteration, the system and
runtime environment (about 40 lines), the whole config (about 250 lines
for the quickstart) and the hook order (about 100 lines), and MMEngine's
and mmcv's deprecation notices. :func:`build_runner` keeps those records
out of the console handler only (:class:`ConsoleFilter`); the log file
still has all of them. Python ``warnings`` (mmcv's ``mmcv-lite`` notice,
deprecations) go to the log file as well: :func:`setup_console` holds
them in memory from the start of the tool, before the log file exists,
and the runner's file handler receives them once it is built.

Nothing here runs at import; the tools call it, and ``--verbose`` skips
it (MMEngine's console as it is).
"""
import contextlib
import logging
import logging.handlers
import warnings
from typing import Iterator, Optional, Sequence

from mmengine.logging import MMLogger
from mmengine.runner import Runner

#: Starts of the messages that go to the log file only: MMEngine's
#: environment block and config dump (``Runner._log_env``), its hook table
#: (``Runner.__init__``), its SyncBN notice (``Runner.wrap_model``) and
#: its file-client deprecation notices (``mmengine/fileio``, met through
#: mmaction's ``DecordInit``).
FILE_ONLY_PREFIXES = (
    '\n' + '-' * 60 + '\nSystem environment:',
    'Config:\n',
    'Hooks will be executed in the following order:',
    'Distributed training is not used, all SyncBatchNorm',
    '"FileClient" will be deprecated in future.',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)

#: ``logging.captureWarnings`` sends Python warnings to this logger.
WARNINGS_LOGGER = 'py.warnings'


class ConsoleFilter(logging.Filter):
    """Drop the records meant for the log file only (their message starts
    with one of :data:`FILE_ONLY_PREFIXES`, or they carry
    ``extra=dict(console=False)``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, 'console', True):
            return False
        message = record.getMessage()
        return not message.startswith(FILE_ONLY_PREFIXES)


class _WarningBuffer(logging.handlers.MemoryHandler):
    """Holds the Python warnings of the tool until the run's log file
    exists, then passes each on to it (and only to it)."""

    def __init__(self) -> None:
        # flushLevel above CRITICAL: nothing is sent before a target is set
        super().__init__(capacity=10000, flushLevel=logging.CRITICAL + 1)

    def shouldFlush(self, record: logging.LogRecord) -> bool:
        return self.target is not None or len(self.buffer) >= self.capacity

    def flush(self) -> None:
        if self.target is None:
            # full before any log file: keep the newest, drop the oldest
            del self.buffer[:len(self.buffer) - self.capacity // 2]
            return
        super().flush()


def _warning_buffer() -> Optional[_WarningBuffer]:
    for handler in logging.getLogger(WARNINGS_LOGGER).handlers:
        if isinstance(handler, _WarningBuffer):
            return handler
    return None


def setup_console(verbose: bool = False,
                  held: Sequence[warnings.WarningMessage] = ()) -> None:
    """Call first in a tool: from now on Python warnings are held for the
    log file instead of printed (unless ``verbose``).

    Args:
        verbose (bool): Leave warnings and the console as they are.
            Defaults to False.
        held (Sequence[WarningMessage]): Warnings the tool caught before
            (``warnings.catch_warnings(record=True)`` around its first
            import of ``mafsar_mm``, which imports mmcv): shown now, or
            held with the others. Defaults to ().
    """
    if not verbose and _warning_buffer() is None:
        logging.captureWarnings(True)
        warnings_logger = logging.getLogger(WARNINGS_LOGGER)
        warnings_logger.addHandler(_WarningBuffer())
        warnings_logger.propagate = False
    for w in held:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno,
                             w.file, w.line)


def restore_console() -> None:
    """Undo :func:`setup_console`: Python warnings are printed again (the
    held ones are dropped; the log file has them if it was built)."""
    buffer = _warning_buffer()
    if buffer is None:
        return
    warnings_logger = logging.getLogger(WARNINGS_LOGGER)
    warnings_logger.removeHandler(buffer)
    warnings_logger.propagate = True
    logging.captureWarnings(False)
    buffer.setTarget(None)
    buffer.buffer.clear()


@contextlib.contextmanager
def console_session() -> Iterator[None]:
    """Run a tool's ``main`` (which calls :func:`setup_console`) and undo
    it afterwards, also on errors and ``SystemExit``, so that a tool run
    in-process (tests, ``runpy``) leaves ``logging`` and ``warnings`` as
    they were."""
    try:
        yield
    finally:
        restore_console()


def quiet_logger(logger: MMLogger) -> MMLogger:
    """Filter the console handler of ``logger`` with :class:`ConsoleFilter`
    and send the held Python warnings to its file handler.

    Args:
        logger (MMLogger): A logger of MMEngine (e.g. a runner's).

    Returns:
        MMLogger: The same logger.
    """
    file_handler = None
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            file_handler = file_handler or handler
        elif isinstance(handler, logging.StreamHandler) and not any(
                isinstance(f, ConsoleFilter) for f in handler.filters):
            handler.addFilter(ConsoleFilter())
    buffer = _warning_buffer()
    if buffer is not None and file_handler is not None:
        buffer.setTarget(file_handler)
        buffer.flush()
    return logger


class QuietConsoleRunner(Runner):
    """MMEngine's :class:`~mmengine.runner.Runner` whose logger is passed
    through :func:`quiet_logger` as soon as it is built (before the
    environment and the config are logged)."""

    def build_logger(self, *args, **kwargs) -> MMLogger:
        return quiet_logger(super().build_logger(*args, **kwargs))


def build_runner(cfg, verbose: bool = False) -> Runner:
    """``Runner.from_cfg(cfg)`` with a quiet console unless ``verbose``.

    Args:
        cfg (Config): The run's config.
        verbose (bool): MMEngine's console as it is. Defaults to False.

    Returns:
        Runner: The runner.
    """
    runner_cls = Runner if verbose else QuietConsoleRunner
    return runner_cls.from_cfg(cfg)
