"""Output paths are checked before work: no input or checkpoint is ever
replaced by a result file (issue 23 items 1 and 17)."""
import os

import pytest

from mafsar_mm.utils.errors import UserError
from mafsar_mm.utils.output_paths import check_output_path


def test_output_equal_to_an_input_is_refused_after_resolving(
        tmp_path, monkeypatch):
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'weights')
    link = tmp_path / 'link.json'
    link.symlink_to(ckpt)
    monkeypatch.chdir(tmp_path)
    for out in ('model.pth', str(ckpt), './sub/../model.pth', str(link)):
        with pytest.raises(UserError) as info:
            check_output_path(out, '--dump-metrics',
                              dict(checkpoint=str(ckpt)))
        assert str(info.value) == (
            f'--dump-metrics {out} is the checkpoint this command reads; '
            'writing there would destroy it: choose another file.')
    assert ckpt.read_bytes() == b'weights'


def test_existing_checkpoint_is_never_replaced(tmp_path):
    other = tmp_path / 'best.pth'
    other.write_bytes(b'x')
    with pytest.raises(UserError, match=r'is an existing \.pth file, which '
                       'a result file never replaces'):
        check_output_path(str(other), '--out')
    # a new .pth name and an existing JSON result are fine
    assert check_output_path(str(tmp_path / 'new.pth'), '--out') == str(
        tmp_path / 'new.pth')
    old = tmp_path / 'metrics.json'
    old.write_text('{}')
    assert check_output_path(str(old), '--out') == str(old)


def test_folder_is_made_or_refused_at_start(tmp_path):
    out = tmp_path / 'a' / 'b' / 'm.json'
    check_output_path(str(out), '--dump-metrics')
    assert out.parent.is_dir() and not out.exists()
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(UserError,
                       match=r'cannot make its folder .*: .* is a file\.'):
        check_output_path(str(blocker / 'm.json'), '--dump-metrics')
    with pytest.raises(UserError, match=r'is a folder; name a file'):
        check_output_path(str(tmp_path), '--dump-metrics')
    assert os.listdir(tmp_path / 'a' / 'b') == []
