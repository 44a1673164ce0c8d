"""Atomic checkpoint writes, weights_only loading (torch's default, which
MMEngine keeps), finding the checkpoint to resume from, and clear errors
for checkpoints that are broken, unsafe or do not fit."""
import errno
import pickle
import os
import os.path as osp
import subprocess
import sys
import textwrap
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import save_checkpoint as _save_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint

import mafsar_mm  # noqa: F401
from mafsar_mm.engine import (ATOMIC_BACKEND, AtomicLocalBackend,
                              CheckpointMismatchError, CorruptCheckpointError,
                              UnsafeCheckpointError, check_checkpoint_file,
                              find_resume_checkpoint, from_weights_only_types,
                              load_into_model, make_slim,
                              to_weights_only_types)

ATOMIC = dict(backend=ATOMIC_BACKEND)


def save_checkpoint(checkpoint, path):
    """MMEngine's save path with the backend our configs select."""
    _save_checkpoint(checkpoint, path, backend_args=ATOMIC)


def _fail(exc):

    def raiser(*args, **kwargs):
        raise exc

    return raiser


def _tmp_files(folder):
    return [f for f in os.listdir(folder) if f.endswith('.tmp')]


# 6. disk full / interrupted writes ---------------------------------------


def test_atomic_backend_is_selected_by_name_only():
    assert isinstance(
        get_file_backend('/some/path', backend_args=ATOMIC),
        AtomicLocalBackend)
    assert not isinstance(get_file_backend('/some/path'), AtomicLocalBackend)


_SNAPSHOT = textwrap.dedent("""
    import mmengine.fileio.backends.registry_utils as fb
    from mmengine.runner import CheckpointLoader
    def snapshot():
        return (dict(fb.backends), dict(fb.prefix_to_backends),
                dict(CheckpointLoader._schemes))
    before = snapshot()
    import mafsar_mm, mafsar_mm.engine  # noqa
    after = snapshot()
    for name, (b, a) in zip(('backends', 'prefixes', 'loaders'),
                            zip(before, after)):
        changed = sorted(k for k in b if a.get(k) is not b[k])
        print(name, 'changed:', changed, 'added:', sorted(set(a) - set(b)))
""")


def test_import_changes_no_mmengine_backend_or_loader():
    out = subprocess.run([sys.executable, '-c', _SNAPSHOT],
                         capture_output=True,
                         text=True,
                         check=True).stdout.splitlines()
    assert out == [
        "backends changed: [] added: ['atomic_local']",
        'prefixes changed: [] added: []',
        'loaders changed: [] added: []',
    ]


def test_mmengine_loads_local_files_weights_only(tmp_path):
    """No loader of ours is needed: MMEngine's local loader leaves
    ``weights_only`` to torch, whose default is True."""
    path = str(tmp_path / 'unsafe.pth')
    torch.save(dict(state_dict={}, extra=HistoryBuffer()), path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load'):
        _load_checkpoint(path)


@pytest.mark.parametrize('where, exc', [
    ('fsync', OSError(errno.ENOSPC, 'No space left on device')),
    ('fsync', KeyboardInterrupt()),
    ('replace', OSError(errno.EIO, 'I/O error')),
])
def test_failed_checkpoint_write_keeps_old_file(tmp_path, monkeypatch, where,
                                                exc):
    path = str(tmp_path / 'iter_2.pth')
    save_checkpoint(dict(state_dict=dict(w=torch.ones(3))), path)
    monkeypatch.setattr(os, where, _fail(exc))
    with pytest.raises(type(exc)):
        # MMEngine's own save path: torch.save to bytes, backend.put
        save_checkpoint(dict(state_dict=dict(w=torch.zeros(3))), path)
    monkeypatch.undo()
    assert torch.equal(torch.load(path)['state_dict']['w'], torch.ones(3))
    assert _tmp_files(tmp_path) == []


def test_checkpoint_write_replaces_file(tmp_path):
    path = str(tmp_path / 'sub' / 'ckpt.pth')
    for value in (1., 2.):
        save_checkpoint(
            dict(state_dict=dict(w=torch.full((2, ), value))), path)
    assert torch.load(path)['state_dict']['w'].tolist() == [2, 2]
    assert _tmp_files(osp.dirname(path)) == []


def _write_run(folder, iters, truncate=None, record=None):
    for it in iters:
        save_checkpoint(
            dict(meta=dict(iter=it), state_dict={}), f'{folder}/iter_{it}.pth')
    if truncate is not None:  # e.g. written by a tool without atomic writes
        path = f'{folder}/iter_{truncate}.pth'
        data = open(path, 'rb').read()
        open(path, 'wb').write(data[:len(data) // 2])
    if record is not None:
        with open(f'{folder}/last_checkpoint', 'w') as f:
            f.write(record)


def test_find_resume_checkpoint(tmp_path):
    folder = str(tmp_path)
    assert find_resume_checkpoint(folder) is None  # fresh run
    _write_run(folder, [2, 4, 6], record=f'{folder}/iter_6.pth')
    assert find_resume_checkpoint(folder) == f'{folder}/iter_6.pth'
    # a truncated latest checkpoint, or an empty / stale record
    _write_run(folder, [], truncate=6)
    assert find_resume_checkpoint(folder) == f'{folder}/iter_4.pth'
    _write_run(folder, [], record='')
    assert find_resume_checkpoint(folder) == f'{folder}/iter_4.pth'
    _write_run(folder, [], record=f'{folder}/iter_8.pth')
    assert find_resume_checkpoint(folder) == f'{folder}/iter_4.pth'
    for it in (2, 4):
        os.remove(f'{folder}/iter_{it}.pth')
    with pytest.raises(CorruptCheckpointError, match='last_checkpoint'):
        find_resume_checkpoint(folder)


def test_truncated_or_empty_checkpoint_is_a_clear_error(tmp_path):
    path = str(tmp_path / 'iter_6.pth')
    _write_run(str(tmp_path), [6], truncate=6)
    with pytest.raises(CorruptCheckpointError, match='truncated or corrupt'):
        check_checkpoint_file(path)
    open(path, 'wb').close()
    with pytest.raises(CorruptCheckpointError, match=r'empty \(0 bytes\)'):
        check_checkpoint_file(path)
    with pytest.raises(FileNotFoundError, match='Checkpoint not found'):
        check_checkpoint_file(str(tmp_path / 'missing.pth'))


# 5. weights_only loading -------------------------------------------------


def _message_hub_state():
    hub = MessageHub(f'reliability_{id(object())}')
    hub.update_scalar('train/loss', 0.25)
    hub.update_scalar('train/loss', np.float32(0.5), count=2)
    hub.update_info('best_score', np.float64(61.25), resumed=True)
    hub.update_info('ids', np.arange(3), resumed=True)
    hub.update_info('last_ckpt', '/a/iter_2.pth', resumed=True)
    return hub.state_dict()


def test_message_hub_round_trip_is_weights_only_safe(tmp_path):
    state = _message_hub_state()
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(message_hub=state), path)  # stock MMEngine content
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    assert any('HistoryBuffer' in g for g in unsafe)

    torch.save(dict(message_hub=to_weights_only_types(state)), path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    back = from_weights_only_types(
        torch.load(path, weights_only=True)['message_hub'])
    buf = back['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    for ours, theirs in zip(buf.data, state['log_scalars']['train/loss'].data):
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    assert buf.mean() == state['log_scalars']['train/loss'].mean()
    info = back['runtime_info']
    assert info['best_score'] == 61.25 and info['last_ckpt'] == '/a/iter_2.pth'
    assert np.array_equal(info['ids'], np.arange(3))
    assert isinstance(back['runtime_info'], OrderedDict)


def test_full_unpickling_needs_explicit_opt_in(tmp_path, monkeypatch):
    path = str(tmp_path / 'foreign.pth')
    torch.save(dict(message_hub=_message_hub_state()), path)
    monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
    with pytest.raises(UnsafeCheckpointError) as info:
        check_checkpoint_file(path)
    assert 'HistoryBuffer' in str(info.value)
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1' in str(info.value)
    assert 'trust' in str(info.value)
    # torch's own switch: the check and MMEngine's loader both follow it
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    check_checkpoint_file(path)
    loaded = _load_checkpoint(path)  # explicit: trusted file
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)


# 4. a checkpoint of another architecture ---------------------------------


class _Net(torch.nn.Module):
    """A frozen open_clip-like part plus a tunable head."""

    def __init__(self, width=4, extra=False):
        super().__init__()
        import open_clip
        self.clip = open_clip.transformer.LayerNorm(width)
        self.clip.requires_grad_(False)
        self.head = torch.nn.Linear(width, 2)
        if extra:
            self.extra = torch.nn.Linear(2, 2)


def test_other_architecture_lists_keys():
    ckpt = dict(meta={}, state_dict=_Net(width=6).state_dict())
    ckpt['state_dict']['old.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError) as info:
        load_into_model(ckpt, _Net(width=4, extra=True))
    msg = str(info.value)  # torch's load_state_dict(strict=True) lists them
    assert 'another architecture' in msg
    assert 'Missing key(s) in state_dict: "extra.weight", "extra.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "old.weight"' in msg
    assert ('size mismatch for head.weight: copying a param with shape '
            'torch.Size([2, 6]) from checkpoint') in msg
    assert 'check_keys=False' in msg
    # lenient mode: warning only, the matching part is loaded
    net = _Net(width=4, extra=True)
    ckpt['state_dict']['extra.bias'] = torch.full((2, ), 7.)
    load_into_model(ckpt, net, check_keys=False)
    assert net.extra.bias.tolist() == [7., 7.]


def test_slim_state_dict_is_completed_from_the_model():
    torch.manual_seed(0)
    trained = _Net()
    ckpt = dict(meta={}, state_dict=trained.state_dict())
    info = make_slim(ckpt, trained)
    assert info['dropped_keys'] == ['clip.weight', 'clip.bias']
    assert sorted(ckpt['state_dict']) == ['head.bias', 'head.weight']
    fresh = _Net()
    fresh.head.reset_parameters()
    filled = load_into_model(ckpt, fresh)
    assert sorted(filled) == ['clip.bias', 'clip.weight']
    fresh.load_state_dict(ckpt['state_dict'])
    for key, value in trained.state_dict().items():
        assert torch.equal(value, fresh.state_dict()[key])
    # a different "pretrained" part: refused, not silently mixed
    other = _Net()
    with torch.no_grad():
        other.clip.weight.add_(1)
    ckpt = dict(meta={}, state_dict=trained.state_dict())
    make_slim(ckpt, trained)
    with pytest.raises(CheckpointMismatchError, match='fingerprint'):
        load_into_model(ckpt, other)


def test_runner_refuses_checkpoint_of_another_architecture(
        synthetic_root, tmp_path):
    from _reliability import micro_config
    from mmaction.registry import MODELS
    from mmengine.runner import Runner
    other = micro_config(synthetic_root, str(tmp_path))
    other.model.head.neck.ffn_channels = 96
    path = str(tmp_path / 'other.pth')
    torch.save(
        dict(meta={}, state_dict=MODELS.build(other.model).state_dict()), path)
    cfg = micro_config(synthetic_root, str(tmp_path / 'work'))
    cfg.load_from = path
    cfg.experiment_name = 'reliability_mismatch'
    runner = Runner.from_cfg(cfg)
    with pytest.raises(CheckpointMismatchError) as info:
        runner.test()  # MMEngine alone would only warn
    assert str(info.value).count('size mismatch for head.neck') == 3


def test_project_config_writes_atomically_and_loads_safely(
        synthetic_root, tmp_path, monkeypatch):
    from _reliability import micro_config
    from mmengine.runner import CheckpointLoader, Runner
    written = []
    put = AtomicLocalBackend.put

    def spy(self, obj, filepath):
        written.append(osp.basename(filepath))
        return put(self, obj, filepath)

    monkeypatch.setattr(AtomicLocalBackend, 'put', spy)
    cfg = micro_config(synthetic_root, str(tmp_path / 'work'), max_iters=2)
    cfg.experiment_name = 'reliability_safe_io'
    Runner.from_cfg(cfg).train()
    assert written == ['iter_2.pth']
    mmengine_loader = CheckpointLoader._schemes['']
    # a checkpoint that needs full unpickling: refused by the Runner, in
    # one line (SlimCheckpointHook.before_run checks the file)
    unsafe = str(tmp_path / 'unsafe.pth')
    torch.save(dict(meta={}, state_dict={}, extra=HistoryBuffer()), unsafe)
    cfg = micro_config(synthetic_root, str(tmp_path / 'test'))
    cfg.load_from = unsafe
    cfg.experiment_name = 'reliability_safe_io_test'
    with pytest.raises(UnsafeCheckpointError, match='HistoryBuffer'):
        Runner.from_cfg(cfg).test()
    assert CheckpointLoader._schemes[''] is mmengine_loader


def test_resume_in_a_copied_work_dir_stays_in_the_copy(tmp_path):
    """Issue 23 item 3: ``cp -r run branch`` then ``--resume`` in the copy
    must not follow ``last_checkpoint`` back into the original."""
    import shutil

    from mafsar_mm.engine import CheckpointError
    original, copy = str(tmp_path / 'run'), str(tmp_path / 'branch')
    os.makedirs(original)
    _write_run(original, [2, 4], record=f'{original}/iter_4.pth')
    shutil.copytree(original, copy)
    assert find_resume_checkpoint(copy) == f'{copy}/iter_4.pth'
    assert find_resume_checkpoint(original) == f'{original}/iter_4.pth'
    os.remove(f'{copy}/iter_4.pth')
    with pytest.raises(CheckpointError) as info:
        find_resume_checkpoint(copy)
    assert str(info.value) == (
        f'{copy}/last_checkpoint names {original}/iter_4.pth, which is '
        f'outside {copy} (a copied work dir?), and {copy} has no '
        'iter_4.pth; resume from it explicitly (--resume PATH) or delete '
        'last_checkpoint.')
