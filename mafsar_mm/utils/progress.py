"""A progress bar for long waits (MMEngine's ``ProgressBar``)."""
import sys
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

from mmengine.dist import get_rank
from mmengine.utils import ProgressBar

T = TypeVar('T')


def track_progress(iterable: Iterable[T],
                   total: int,
                   desc: Optional[str] = None,
                   enabled: bool = True,
                   file: Optional[TextIO] = None) -> Iterator[T]:
    """Yield the items of ``iterable`` while drawing MMEngine's
    ``ProgressBar`` (on rank 0 only; other ranks stay quiet).

    Args:
        iterable (Iterable): The items; one bar step each.
        total (int): Number of items (the bar's length); 0 draws nothing.
        desc (str, optional): A line printed above the bar. Defaults to
            None.
        enabled (bool): False only iterates. Defaults to True.
        file (TextIO, optional): Where to draw. Defaults to None
            (``sys.stdout``).

    Yields:
        The items of ``iterable``.
    """
    if not enabled or total <= 0 or get_rank() != 0:
        yield from iterable
        return
    file = file or sys.stdout
    if desc:
        file.write(f'{desc}\n')
    bar = ProgressBar(total, file=file)
    try:
        for item in iterable:
            yield item
            bar.update()
    finally:
        file.write('\n')
        file.flush()
