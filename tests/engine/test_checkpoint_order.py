"""Issue 23 item 2: old checkpoints (``max_keep_ckpts``, the previous
best) are removed only after the new one is complete and in place, and a
complete temporary checkpoint left by a kill is promoted, not deleted."""
import glob
import os
import os.path as osp
import runpy
import subprocess
import sys

import pytest
import torch
from _reliability import micro_config
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

import mafsar_mm  # noqa: F401
from mafsar_mm.engine import AtomicCheckpointHook, find_resume_checkpoint
from mafsar_mm.utils import workdir_lock
from mafsar_mm.utils.atomic_files import (is_complete_torch_file,
                                          settle_tmp_files)
from mafsar_mm.utils.workdir_lock import WorkDirLock, remove_stale_tmp_files

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
TRAIN = osp.join(REPO, 'tools', 'train.py')


class _Stop(Exception):
    pass


def _config(root, work_dir, max_iters=4, **checkpoint):
    cfg = micro_config(root, str(work_dir), max_iters=max_iters)
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    cfg.default_hooks.checkpoint.update(max_keep_ckpts=1, **checkpoint)
    return cfg


def _run(cfg, name, resume=False):
    cfg = cfg.copy()
    cfg.experiment_name = name
    if resume:
        cfg.resume = True
        cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _files(folder):
    return sorted(os.listdir(folder))


def _ckpts(folder):
    """Checkpoints, temporary files and ``last_checkpoint`` of a work dir
    (not its logs and config copy)."""
    return [
        f for f in _files(folder)
        if f.endswith(('.pth', '.tmp')) or f == 'last_checkpoint'
    ]


def _fail_on_rename_to(monkeypatch, name, exc):
    replace = os.replace

    def replace_or_fail(src, dst, *args, **kwargs):
        if osp.basename(str(dst)) == name:
            raise exc
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, 'replace', replace_or_fail)


def test_kill_during_save_keeps_the_previous_checkpoint(
        synthetic_root, tmp_path, monkeypatch):
    """A kill while ``iter_4.pth`` is written (max_keep_ckpts=1): MMEngine
    alone has removed ``iter_2.pth`` already; here it stays and the run
    resumes from it."""
    work = tmp_path / 'work'
    cfg = _config(synthetic_root, work)
    _fail_on_rename_to(monkeypatch, 'iter_4.pth', KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        _run(cfg, 'order_kill_during_save')
    monkeypatch.undo()
    assert _ckpts(work) == ['iter_2.pth', 'last_checkpoint']
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_2.pth')
    runner = _run(cfg, 'order_kill_during_save_resumed', resume=True)
    assert runner.iter == 4
    # the resumed run saved iter_4 and only then removed iter_2
    assert _ckpts(work) == ['iter_4.pth', 'last_checkpoint']


def test_error_between_save_and_removal_keeps_both(synthetic_root, tmp_path,
                                                   monkeypatch):
    work = tmp_path / 'work'
    cfg = _config(synthetic_root, work)

    remove = AtomicCheckpointHook._remove

    def fail(self, paths):
        if not paths:  # the first save: nothing outdated
            return remove(self, paths)
        assert paths == [str(work / 'iter_2.pth')]
        raise _Stop()

    monkeypatch.setattr(AtomicCheckpointHook, '_remove', fail)
    with pytest.raises(_Stop):
        _run(cfg, 'order_error_before_removal')
    assert _ckpts(work) == ['iter_2.pth', 'iter_4.pth', 'last_checkpoint']
    assert all(
        is_complete_torch_file(str(work / f))
        for f in ('iter_2.pth', 'iter_4.pth'))
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_4.pth')


def test_previous_best_removed_only_after_the_new_best(synthetic_root,
                                                       tmp_path, monkeypatch):
    work = tmp_path / 'work'
    cfg = _config(
        synthetic_root, work, save_best='fewshot/acc', rule='greater')
    runner = _run(cfg, 'order_best')
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    best = [work / f'best_fewshot_acc_iter_{i}.pth' for i in (4, 6, 8)]
    hook.after_val_epoch(runner, {'fewshot/acc': 50.0})
    runner.train_loop._iter = 6  # a later evaluation, with a better score
    hook.after_val_epoch(runner, {'fewshot/acc': 60.0})
    assert [p.exists() for p in best] == [False, True, False]
    runner.train_loop._iter = 8
    _fail_on_rename_to(monkeypatch, best[2].name, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        hook.after_val_epoch(runner, {'fewshot/acc': 70.0})
    monkeypatch.undo()
    assert [p.exists() for p in best] == [False, True, False]
    assert is_complete_torch_file(str(best[1]))


def test_atomic_backend_by_default(tmp_path):
    from types import SimpleNamespace

    from mmengine.logging import MessageHub, MMLogger

    from mafsar_mm.engine import AtomicLocalBackend
    hook = AtomicCheckpointHook(interval=1, by_epoch=False)
    runner = SimpleNamespace(
        work_dir=str(tmp_path),
        logger=MMLogger.get_current_instance(),
        message_hub=MessageHub.get_current_instance())
    hook.before_train(runner)
    assert isinstance(hook.file_backend, AtomicLocalBackend)
    assert hook.backend_args == dict(backend='atomic_local')


def _torch_file(path, value):
    torch.save(dict(state_dict=dict(w=torch.full((2, ), value))), path)


def test_settle_promotes_complete_checkpoints_only(tmp_path):
    complete = tmp_path / '.iter_4.pth.0123456789ab.tmp'
    _torch_file(str(complete), 4.)
    newer = tmp_path / '.best_acc_iter_2.pth.0123456789ac.tmp'
    _torch_file(str(newer), 3.)
    _torch_file(str(tmp_path / 'best_acc_iter_2.pth'), 2.)
    cut = tmp_path / '.iter_6.pth.0123456789ad.tmp'
    data = complete.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    other = tmp_path / '.metrics.json.0123456789ae.tmp'
    other.write_text('{}')
    promoted, removed = settle_tmp_files(str(tmp_path))
    assert promoted == [(str(newer), str(tmp_path / 'best_acc_iter_2.pth')),
                        (str(complete), str(tmp_path / 'iter_4.pth'))]
    assert removed == [(str(cut), len(data) // 2), (str(other), 2)]
    assert _files(tmp_path) == ['best_acc_iter_2.pth', 'iter_4.pth']
    for name, value in (('iter_4.pth', 4.), ('best_acc_iter_2.pth', 3.)):
        loaded = torch.load(str(tmp_path / name), weights_only=True)
        assert loaded['state_dict']['w'].tolist() == [value, value]


def test_start_up_clean_up_promotes_and_records(tmp_path, caplog):
    work = tmp_path / 'work'
    work.mkdir()
    _torch_file(str(work / 'iter_2.pth'), 2.)
    (work / 'last_checkpoint').write_text(str(work / 'iter_2.pth'))
    _torch_file(str(work / '.iter_4.pth.0123456789ab.tmp'), 4.)
    assert remove_stale_tmp_files(str(work)) == []  # not locked: untouched
    assert '.iter_4.pth.0123456789ab.tmp' in _files(work)
    with WorkDirLock(str(work)):
        assert remove_stale_tmp_files(str(work)) == []
    assert _files(work) == ['iter_2.pth', 'iter_4.pth', 'last_checkpoint']
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_4.pth')
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_4.pth')


def test_kill_9_during_save_then_resume(synthetic_root, tmp_path, monkeypatch):
    """A real ``kill -9`` (SIGKILL) of ``tools/train.py`` after
    ``iter_4.pth``'s temporary file is complete, before its rename, with
    max_keep_ckpts=1; the next ``--resume`` (run in this process to save
    a start-up) promotes it and continues."""
    work = tmp_path / 'work'
    cfg = _config(synthetic_root, work, max_iters=6)
    cfg.custom_imports = dict(imports=['mafsar_mm', '_kill_in_save'])
    config = str(tmp_path / 'kill.py')
    cfg.dump(config)
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        MAFSAR_TEST_KILL_AT='iter_4.pth',
        PYTHONPATH=os.pathsep.join(
            [REPO, HERE, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([sys.executable, TRAIN, config],
                          capture_output=True,
                          text=True,
                          env=env,
                          timeout=300)
    assert proc.returncode == -9, proc.stderr
    left = _ckpts(work)
    tmp = [f for f in left if f.startswith('.iter_4.pth.')]
    assert left == tmp + ['iter_2.pth', 'last_checkpoint']
    assert is_complete_torch_file(str(work / tmp[0]))
    cfg.custom_imports = dict(imports=['mafsar_mm'])  # no killer here
    config = str(tmp_path / 'resume.py')
    cfg.dump(config)
    warnings = []  # the start-up messages (before the Runner's logger)
    monkeypatch.setattr(workdir_lock, 'print_log',
                        lambda msg, **kwargs: warnings.append(msg))
    monkeypatch.setattr(sys, 'argv', [TRAIN, config, '--resume'])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(TRAIN, run_name='__main__')
    assert info.value.code in (0, None)
    assert (f'Promoted {tmp[0]} to {work}/iter_4.pth: a complete checkpoint'
            ' an interrupted run had written but not yet renamed '
            '(last_checkpoint now names it).') in warnings
    logs = sorted(glob.glob(str(work / '*' / '*.log')))
    assert 'resumed epoch: 0, iter: 4' in open(logs[-1]).read()
    # iter_4 replaced by iter_6; iter_2, which the killed save had left to
    # remove, stays (only the resumed checkpoint's list is managed)
    assert _ckpts(work) == ['iter_2.pth', 'iter_6.pth', 'last_checkpoint']
