"""Issue 23 item 4: ``tools/test.py --dump`` writes through the atomic
writer: a write failing half-way leaves the previous dump intact and the
error names the file."""
import errno
import logging
import os
import os.path as osp
import pickle
import runpy
import sys

import pytest
from _reliability import micro_config
from random_checkpoint import save_random_checkpoint

import mafsar_mm  # noqa: F401
from mafsar_mm.evaluation import AtomicDumpResults
from mafsar_mm.utils import atomic_files

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEST = osp.join(REPO, 'tools', 'test.py')


class _HalfWriter:
    """A file that writes half of what it is given, then reports a full
    disk (what ``write`` does when the disk fills up mid-file)."""

    def __init__(self, path, mode):
        self.file = open(path, mode)
        self.written = 0

    def write(self, data):
        self.file.write(data[:len(data) // 2])
        self.file.flush()
        self.written = os.path.getsize(self.file.name)
        raise OSError(errno.ENOSPC, 'No space left on device')

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


def _full_disk(monkeypatch):
    writers = []

    def fake_open(path, mode='r', *args, **kwargs):
        writers.append(_HalfWriter(path, mode))
        return writers[-1]

    # the module's own `open` (the built-in otherwise)
    monkeypatch.setattr(atomic_files, 'open', fake_open, raising=False)
    return writers


def test_failed_dump_keeps_the_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'preds.pkl')
    metric = AtomicDumpResults(out_file_path=path)
    metric.compute_metrics([dict(pred=1)])
    before = open(path, 'rb').read()
    writers = _full_disk(monkeypatch)
    with pytest.raises(OSError) as info:
        metric.compute_metrics([dict(pred=i) for i in range(1000)])
    assert writers and writers[0].written > 0  # a partial write happened
    assert info.value.filename == path
    assert info.value.errno == errno.ENOSPC
    assert open(path, 'rb').read() == before
    assert pickle.loads(before) == [dict(pred=1)]
    assert os.listdir(tmp_path) == ['preds.pkl']  # no temporary file left
    monkeypatch.undo()
    metric.compute_metrics([dict(pred=2)])
    assert pickle.load(open(path, 'rb')) == [dict(pred=2)]


@pytest.fixture(autouse=True)
def _no_closed_log_streams():
    """As in test_tool_errors.py: drop log handlers writing to streams
    pytest has closed since earlier tests."""
    from mmengine.logging import MMLogger
    loggers = list(MMLogger._instance_dict.values()) + [logging.getLogger()]
    for logger in loggers:
        for handler in list(logger.handlers):
            stream = getattr(handler, 'stream', None)
            if stream is not None and getattr(stream, 'closed', False):
                logger.removeHandler(handler)
    yield


def test_test_tool_dump_on_a_full_disk(synthetic_root, tmp_path, capsys,
                                       monkeypatch):
    cfg = micro_config(synthetic_root, str(tmp_path / 'work'), test_episodes=2)
    config = str(tmp_path / 'micro.py')
    cfg.dump(config)
    ckpt = str(tmp_path / 'model.pth')
    save_random_checkpoint(cfg, ckpt)
    preds = str(tmp_path / 'preds.pkl')
    args = [TEST, config, ckpt, '--work-dir', str(tmp_path), '--dump', preds]
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    monkeypatch.setattr(sys, 'argv', args)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(TEST, run_name='__main__')
    assert info.value.code in (0, None)
    before = open(preds, 'rb').read()
    assert len(pickle.loads(before)) == 2  # one item per episode
    capsys.readouterr()
    _full_disk(monkeypatch)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(TEST, run_name='__main__')
    err = capsys.readouterr().err
    assert info.value.code == 1
    assert err.splitlines()[-1] == (
        f'error: No space left on device: {preds} (free some space or '
        'choose another --work-dir/output)')
    assert open(preds, 'rb').read() == before
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]
