"""The tools end user errors with one ``error: ...`` line and status 1, and
a training run owns its work dir."""
import fcntl
import json
import logging
import os
import os.path as osp
import runpy
import socket
import subprocess
import sys

import pytest
from _reliability import micro_config
from random_checkpoint import save_random_checkpoint

from mafsar_mm.utils.workdir_lock import LOCK_NAME

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
TEST = osp.join(REPO, 'tools', 'test.py')
DEMO = osp.join(REPO, 'tools', 'demo', 'fewshot_demo.py')


@pytest.fixture(scope='module')
def setup(synthetic_root, tmp_path_factory):
    """A micro config file and a random checkpoint of it."""
    root = tmp_path_factory.mktemp('tool_errors')
    cfg = micro_config(synthetic_root, str(root / 'work'), max_iters=2)
    config = str(root / 'micro.py')
    cfg.dump(config)
    ckpt = str(root / 'model.pth')
    save_random_checkpoint(cfg, ckpt)
    empty = str(root / 'empty.pth')
    open(empty, 'wb').close()
    return dict(root=root, config=config, ckpt=ckpt, empty=empty)


@pytest.fixture(autouse=True)
def _no_closed_log_streams():
    """Tools run in this process reuse MMEngine's logger instances made by
    earlier tests, whose handlers may still write to a captured stderr that
    pytest has closed since ('--- Logging error ---'); drop those handlers
    (a real run starts with fresh streams)."""
    from mmengine.logging import MMLogger
    loggers = list(MMLogger._instance_dict.values()) + [logging.getLogger()]
    for logger in loggers:
        for handler in list(logger.handlers):
            stream = getattr(handler, 'stream', None)
            if stream is not None and getattr(stream, 'closed', False):
                logger.removeHandler(handler)
    yield


def _run_tool(tool, args, capsys, monkeypatch):
    """Run a tool in this process; its exit status and stderr."""
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    monkeypatch.setattr(sys, 'argv', [tool] + list(args))
    with pytest.raises(SystemExit) as info:
        runpy.run_path(tool, run_name='__main__')
    return info.value.code, capsys.readouterr().err


def _env():
    return dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))


def test_test_tool_errors_are_one_line(setup, tmp_path, capsys, monkeypatch):
    work = ['--work-dir', str(tmp_path)]
    code, err = _run_tool(TEST, [setup['config'], setup['empty']] + work,
                          capsys, monkeypatch)
    assert (code, err) == (1, f'error: {setup["empty"]} is empty (0 bytes), '
                           'not a torch checkpoint; it was probably cut off '
                           'while being copied or written.\n')
    missing = str(tmp_path / 'nope.pth')
    code, err = _run_tool(TEST, [setup['config'], missing] + work, capsys,
                          monkeypatch)
    assert (code, err) == (1, f'error: Checkpoint not found: {missing}\n')


def test_bad_video_on_the_uncached_path_with_workers(setup, synthetic_root,
                                                     tmp_path, capsys,
                                                     monkeypatch):
    bad = str(tmp_path / 'broken.mp4')
    open(bad, 'wb').close()
    lines = open(osp.join(synthetic_root, 'test.txt')).read().splitlines()
    label = lines[0].split()[1]
    ann = tmp_path / 'test_bad.txt'
    ann.write_text('\n'.join([f'{bad} {label}'] + lines) + '\n')
    code, err = _run_tool(TEST, [
        setup['config'], setup['ckpt'], '--work-dir',
        str(tmp_path), '--cfg-options', 'test_cfg.feature_cache=False',
        'test_dataloader.num_workers=1', f'test_dataloader.dataset.ann_file='
        f'{ann}', 'test_dataloader.dataset.num_episodes=60'
    ], capsys, monkeypatch)
    assert code == 1
    assert err.startswith(f'error: Bad video {bad}: empty file. Run ')
    assert err.count('\n') == 1 and 'Traceback' not in err


def test_demo_errors_are_one_line(setup, synthetic_root, tmp_path, capsys,
                                  monkeypatch):
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    video = osp.join(
        synthetic_root,
        open(osp.join(synthetic_root, 'test.txt')).readline().split()[0])
    status = runpy.run_path(DEMO)['main']([
        '--config', setup['config'], '--checkpoint', setup['empty'],
        '--support',
        str(setup['root']), '--query', video
    ])
    assert status == 1
    assert capsys.readouterr().err == (
        f'error: {setup["empty"]} is empty (0 bytes), not a torch '
        'checkpoint; it was probably cut off while being copied or '
        'written.\n')
    no_classes = tmp_path / 'no_classes'
    no_classes.mkdir()
    status = runpy.run_path(DEMO)['main']([
        '--config', setup['config'], '--checkpoint', setup['ckpt'],
        '--support',
        str(no_classes), '--query', video
    ])
    assert status == 1
    assert capsys.readouterr().err == (
        f'error: Support directory {no_classes} has no sub-folders; '
        "expected one sub-folder per class holding that class's videos.\n")


def test_train_refuses_a_busy_work_dir(setup, tmp_path, capsys, monkeypatch):
    work_dir = tmp_path / 'busy'
    work_dir.mkdir()
    owner = dict(
        pid=os.getpid(),
        host=socket.gethostname(),
        started='2026-01-01T00:00:00',
        command='pytest')
    (work_dir / LOCK_NAME).write_text(json.dumps(owner))
    # held as a run holds it: an exclusive flock on its own open file
    with open(work_dir / LOCK_NAME) as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, err = _run_tool(TRAIN,
                              [setup['config'], '--work-dir',
                               str(work_dir)], capsys, monkeypatch)
    assert (code, err) == (1, (
        f'error: The work dir {work_dir} is in use by another run (pid '
        f'{os.getpid()} on {socket.gethostname()}, started '
        '2026-01-01T00:00:00: pytest). Wait for it to end or choose another '
        f'--work-dir; if that run is gone, delete {work_dir}/{LOCK_NAME}.\n'))
    assert sorted(os.listdir(work_dir)) == [LOCK_NAME]  # nothing written


def test_resume_in_a_fresh_work_dir_after_a_kill(setup, tmp_path):
    """What a ``kill -9`` leaves (a lock of a dead process, a temporary
    checkpoint) is cleaned; ``--resume`` without a checkpoint says that it
    starts from scratch."""
    work_dir = tmp_path / 'killed'
    work_dir.mkdir()
    dead = subprocess.Popen(['true'])
    dead.wait()
    owner = dict(
        pid=dead.pid,
        host=socket.gethostname(),
        started='x',
        command='python tools/train.py')
    (work_dir / LOCK_NAME).write_text(json.dumps(owner))
    (work_dir / '.iter_2.pth.0123456789ab.tmp').write_bytes(b'x' * 1000)
    proc = subprocess.run([
        sys.executable, TRAIN, setup['config'], '--work-dir',
        str(work_dir), '--resume'
    ],
                          capture_output=True,
                          text=True,
                          env=_env(),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    log = proc.stdout + proc.stderr
    assert (f'Taking over the work dir {work_dir} from a run that is gone '
            f'(pid {dead.pid} on ') in log
    assert (f'Removed 1 temporary files (0.0 MiB) left in {work_dir} by an '
            'interrupted run.') in log
    assert (f'--resume: {work_dir} holds no checkpoint; training starts '
            'from scratch.') in log
    files = os.listdir(work_dir)
    assert 'iter_2.pth' in files
    assert LOCK_NAME not in files  # released at the end
    assert not [f for f in files if f.endswith('.tmp')]


def test_outputs_never_destroy_the_checkpoint(setup, tmp_path, capsys,
                                              monkeypatch):
    """``--dump-metrics CKPT`` (test) and ``--out CKPT`` (demo) stop at
    start with one line; the checkpoint keeps every byte."""
    ckpt = setup['ckpt']
    before = open(ckpt, 'rb').read()
    code, err = _run_tool(TEST, [
        setup['config'], ckpt, '--work-dir',
        str(tmp_path), '--dump-metrics', ckpt
    ], capsys, monkeypatch)
    assert (code, err) == (1, f'error: --dump-metrics {ckpt} is the '
                           'checkpoint this command reads; writing there '
                           'would destroy it: choose another file.\n')
    blocker = tmp_path / 'file'
    blocker.write_text('')
    code, err = _run_tool(TEST, [
        setup['config'], ckpt, '--work-dir',
        str(tmp_path), '--dump', str(blocker / 'p.pkl')
    ], capsys, monkeypatch)
    assert code == 1 and err.startswith(
        f'error: --dump {blocker / "p.pkl"}: cannot make its folder')
    status = runpy.run_path(DEMO)['main']([
        '--config', setup['config'], '--checkpoint', ckpt, '--classes',
        'a', 'b', '--query', ckpt, '--out', ckpt
    ])
    assert status == 1
    assert capsys.readouterr().err.startswith(f'error: --out {ckpt} is the ')
    assert open(ckpt, 'rb').read() == before


@pytest.mark.parametrize('signum, status', [(2, 130), (15, 143)])
def test_interrupted_training_ends_in_one_line(synthetic_root, tmp_path,
                                               signum, status):
    """Issue 23 item 18: Ctrl-C (SIGINT) and ``kill`` (SIGTERM) during
    training: one line saying where it stopped, the lock released, the
    shell's exit status, and the checkpoints intact for ``--resume``."""
    import signal
    import time

    from mafsar_mm.engine import find_resume_checkpoint
    work_dir = tmp_path / 'work'
    cfg = micro_config(synthetic_root, str(work_dir), max_iters=10000,
                       checkpoint_interval=2)
    config = str(tmp_path / 'long.py')
    cfg.dump(config)
    proc = subprocess.Popen(
        [sys.executable, TRAIN, config, '--work-dir',
         str(work_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # a run that does not end is made to print every thread's stack
        env=dict(_env(), PYTHONFAULTHANDLER='1'),
        # Ctrl-C as in a terminal: a shell's background job (a CI script
        # run with &) ignores SIGINT, and its children inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 240
    while not (work_dir / 'iter_2.pth').exists():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.2)
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler dumps the stacks
        _, err = proc.communicate(timeout=60)
        pytest.fail(f'no exit 120 s after {signal.Signals(signum).name}; '
                    f'stderr and stacks:\n{err[-8000:]}')
    assert proc.returncode == status, err
    name = signal.Signals(signum).name
    last = err.strip().splitlines()[-1]
    assert last.startswith(f'interrupted by {name} after ')
    assert last.endswith(' training iterations; the saved checkpoints are '
                         'intact: continue with --resume.')
    assert 'Traceback' not in err
    assert LOCK_NAME not in os.listdir(work_dir)
    assert find_resume_checkpoint(str(work_dir)) is not None
