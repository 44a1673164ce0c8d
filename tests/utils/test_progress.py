"""The progress bar of long waits (rank 0 only)."""
import io

from mafsar_mm.utils import progress


def test_bar_counts_every_item_and_keeps_them():
    out = io.StringIO()
    items = list(progress.track_progress(iter('abc'), 3, 'three', file=out))
    assert items == ['a', 'b', 'c']
    lines = out.getvalue().split('\n')
    assert lines[0] == 'three'
    steps = lines[1].split('\r')
    assert [s.split('] ')[1].split(',')[0] for s in steps[1:]] == [
        '1/3', '2/3', '3/3'
    ]
    assert lines[2:] == ['']


def test_quiet_off_rank_0_and_when_disabled(monkeypatch):
    out = io.StringIO()
    assert list(progress.track_progress(range(3), 3, 'x', False,
                                        out)) == [0, 1, 2]
    monkeypatch.setattr(progress, 'get_rank', lambda: 1)
    assert list(progress.track_progress(range(3), 3, 'x', file=out)) == [
        0, 1, 2
    ]
    assert out.getvalue() == ''
