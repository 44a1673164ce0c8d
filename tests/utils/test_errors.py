"""User errors: picklable, rebuilt across the DataLoader worker boundary,
printed by the tools as one line (a stack trace only with --debug)."""
import pickle

import pytest
from torch.utils.data import DataLoader, Dataset

from mafsar_mm.datasets import BadVideoError
from mafsar_mm.engine import CheckpointError, CorruptCheckpointError
from mafsar_mm.models.clip import CLIPWeightsNotFoundError
from mafsar_mm.utils.errors import (InputError, UserError, format_error,
                                    run_main)
from mafsar_mm.utils.workdir_lock import WorkDirLockedError


@pytest.mark.parametrize('exc', [
    BadVideoError('/data/a b.mp4', 'empty file'),
    BadVideoError('whole message'),
    InputError('n_way must be an integer >= 1, got 0'),
    CorruptCheckpointError('x.pth is empty (0 bytes)'),
    WorkDirLockedError('in use'),
    CLIPWeightsNotFoundError('no weights'),
])
def test_user_errors_pickle_with_their_attributes(exc):
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert str(copy) == str(exc)
    assert copy.__dict__ == exc.__dict__
    assert isinstance(copy, UserError)


def test_error_types_keep_their_old_bases():
    assert issubclass(InputError, ValueError)
    assert issubclass(BadVideoError, RuntimeError)
    assert issubclass(CheckpointError, RuntimeError)
    assert issubclass(CLIPWeightsNotFoundError, FileNotFoundError)


def test_bad_video_error_fields():
    exc = BadVideoError('/v/x.mp4', '3 frames, fewer than min_frames=8')
    assert (exc.path, exc.reason) == ('/v/x.mp4',
                                      '3 frames, fewer than min_frames=8')
    assert str(exc).startswith(
        'Bad video /v/x.mp4: 3 frames, fewer than min_frames=8. Run ')


class _Failing(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, index):
        raise BadVideoError(f'/v/{index}.mp4', 'empty file')


def test_bad_video_error_survives_the_worker_boundary():
    loader = DataLoader(_Failing(), batch_size=1, num_workers=1)
    with pytest.raises(BadVideoError) as info:
        next(iter(loader))
    # the re-raised error carries the worker's traceback; the tools print
    # only the original message
    assert 'Original Traceback' in str(info.value)
    assert format_error(info.value) == str(
        BadVideoError('/v/0.mp4', 'empty file'))


def _raise(exc):

    def main():
        raise exc

    return main


def test_run_main_prints_one_line(capsys, monkeypatch):
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    status = run_main(_raise(InputError('n_way=9 is larger than 5.')), [])
    assert status == 1
    captured = capsys.readouterr()
    assert captured.err == 'error: n_way=9 is larger than 5.\n'
    assert captured.out == ''
    assert run_main(lambda: None, []) == 0
    assert run_main(lambda: 3, []) == 3


def test_run_main_reports_a_full_disk(capsys, monkeypatch):
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)

    def write_to_full_disk():
        with open('/dev/full', 'wb') as f:
            f.write(b'x' * 8)
            f.flush()

    assert run_main(write_to_full_disk, []) == 1
    assert capsys.readouterr().err == (
        'error: No space left on device (free some space or choose another '
        '--work-dir/output)\n')


def test_debug_shows_the_trace(monkeypatch):
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    with pytest.raises(InputError):
        run_main(_raise(InputError('x')), ['--debug'])
    monkeypatch.setenv('MAFSAR_DEBUG', '1')
    with pytest.raises(InputError):
        run_main(_raise(InputError('x')), [])


def test_bugs_are_not_hidden(monkeypatch):
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    with pytest.raises(KeyError):
        run_main(_raise(KeyError('a bug')), [])
