"""atomic_path: complete files or none, never a truncated one."""
import os

import pytest

from mafsar_mm.utils.atomic_files import atomic_path, atomic_write


def test_atomic_path_renames_on_success(tmp_path):
    target = tmp_path / 'sub' / 'clip.mp4'
    with atomic_path(target, keep_suffix=True) as tmp:
        assert os.path.dirname(tmp) == str(target.parent)
        assert tmp.endswith('.tmp.mp4') and not target.exists()
        with open(tmp, 'wb') as f:
            f.write(b'new')
    assert target.read_bytes() == b'new'
    assert os.listdir(target.parent) == ['clip.mp4']


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / 'meta.json'
    atomic_write('{"old": 1}', target)
    with pytest.raises(RuntimeError, match='writer failed'):
        with atomic_path(target) as tmp:
            with open(tmp, 'w') as f:
                f.write('{"new"')
            raise RuntimeError('writer failed')
    assert target.read_text() == '{"old": 1}'
    assert os.listdir(tmp_path) == ['meta.json']
