"""Small Markdown helpers of the report."""
from typing import List, Optional, Sequence


def _m(value: float) -> str:
    return f'{value / 1e6:.2f} M'


def _gib(value: float) -> str:
    return f'{value / 2**30:.2f}'


def _opt_gib(value: Optional[float]) -> str:
    return '-' if value is None else _gib(value)


def _ok(passed: bool) -> str:
    return 'met' if passed else '**missed**'


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> List[str]:
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join('---' for _ in header) + '|'
    ]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return lines
