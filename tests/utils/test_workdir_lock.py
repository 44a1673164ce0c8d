"""One run per work dir; stale locks and temporary files are cleaned."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys
from unittest import mock

import pytest

from mafsar_mm.engine import atomic_write
from mafsar_mm.utils.workdir_lock import (LOCK_NAME, WorkDirLock,
                                          WorkDirLockedError, claim_work_dir)

TMP = '.iter_4.pth.0123456789ab.tmp'


def _dead_pid() -> int:
    proc = subprocess.Popen(['true'])
    proc.wait()
    return proc.pid


def _write_lock(work_dir, **owner):
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, LOCK_NAME), 'w') as f:
        json.dump(owner, f)


def test_second_run_is_refused_naming_the_first(tmp_path):
    work_dir = str(tmp_path / 'run')
    with WorkDirLock(work_dir) as lock:
        owner = json.load(open(lock.path))
        assert owner['pid'] == os.getpid()
        assert owner['host'] == socket.gethostname()
        with pytest.raises(WorkDirLockedError) as info:
            WorkDirLock(work_dir).acquire()
        message = str(info.value)
        assert f'in use by another run (pid {os.getpid()} on ' \
            f'{socket.gethostname()}, started {owner["started"]}' in message
        assert osp.join(work_dir, LOCK_NAME) in message
    assert not osp.exists(osp.join(work_dir, LOCK_NAME))
    WorkDirLock(work_dir).acquire().release()  # free again


def test_lock_of_a_dead_process_is_taken_over(tmp_path):
    work_dir = str(tmp_path / 'run')
    pid = _dead_pid()
    _write_lock(
        work_dir,
        pid=pid,
        host=socket.gethostname(),
        started='earlier',
        command='python tools/train.py x')
    with mock.patch('mafsar_mm.utils.workdir_lock.print_log') as log:
        lock = WorkDirLock(work_dir).acquire()
    try:
        assert json.load(open(lock.path))['pid'] == os.getpid()
        assert log.call_args.args[0].startswith(
            f'Taking over the work dir {work_dir} from a run that is gone '
            f'(pid {pid} on ')
    finally:
        lock.release()


@pytest.mark.parametrize('host', [socket.gethostname(), 'another-machine'])
def test_a_record_nobody_flocks_is_stale_whatever_it_names(tmp_path, host):
    """The kernel's flock decides, not the record: one naming a running
    process (ours) or another host but held by nobody is taken over."""
    work_dir = str(tmp_path / 'run')
    _write_lock(work_dir, pid=os.getpid(), host=host, started='earlier')
    with mock.patch('mafsar_mm.utils.workdir_lock.print_log') as log:
        WorkDirLock(work_dir).acquire().release()
    assert f'(pid {os.getpid()} on {host}, started earlier' in \
        log.call_args.args[0]
    assert not osp.exists(osp.join(work_dir, LOCK_NAME))


def test_unwritable_work_dir_is_one_error():
    with pytest.raises(
            WorkDirLockedError,
            match='Cannot create the work dir /sys/mafsar_x'):
        WorkDirLock('/sys/mafsar_x').acquire()


def test_stale_tmp_files_removed_at_start_and_after_a_save(tmp_path):
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    (work_dir / TMP).write_bytes(b'x' * 100)
    (work_dir / 'iter_4.pth').write_bytes(b'ckpt')
    (work_dir / 'notes.tmp').write_text('mine')
    lock = claim_work_dir(str(work_dir))
    try:
        assert sorted(os.listdir(work_dir)) == sorted(
            [LOCK_NAME, 'iter_4.pth', 'notes.tmp'])
        # a leftover appearing later (e.g. another rank's crash) goes with
        # the next successful save
        (work_dir / '.iter_6.pth.abcdef012345.tmp').write_bytes(b'x')
        atomic_write(b'new', str(work_dir / 'iter_8.pth'))
        assert sorted(os.listdir(work_dir)) == sorted(
            [LOCK_NAME, 'iter_4.pth', 'iter_8.pth', 'notes.tmp'])
    finally:
        lock.release()
    # a folder this process does not own keeps its files
    other = tmp_path / 'other'
    other.mkdir()
    (other / TMP).write_bytes(b'x')
    atomic_write(b'new', str(other / 'iter_8.pth'))
    assert sorted(os.listdir(other)) == [TMP, 'iter_8.pth']


def test_only_rank_0_locks(tmp_path, monkeypatch):
    monkeypatch.setenv('RANK', '1')
    assert claim_work_dir(str(tmp_path / 'run')) is None
    assert not osp.exists(tmp_path / 'run' / LOCK_NAME)


@pytest.mark.parametrize('record', [b'{"pid": 12', b''])
def test_unreadable_lock_nobody_holds_is_taken_over(tmp_path, record):
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    (work_dir / LOCK_NAME).write_bytes(record)
    with mock.patch('mafsar_mm.utils.workdir_lock.print_log') as log:
        lock = WorkDirLock(str(work_dir)).acquire()
    try:
        assert log.call_count == 1
        assert log.call_args.args[0] == (
            f'Taking over the work dir {work_dir} from a run that is gone '
            f'(its record {work_dir / LOCK_NAME} is unreadable).')
        assert json.load(open(lock.path))['pid'] == os.getpid()
        assert os.listdir(work_dir) == [LOCK_NAME]  # no temporary file
    finally:
        lock.release()
    assert os.listdir(work_dir) == []


HOLD = ('import sys, time\n'
        'from mafsar_mm.utils.workdir_lock import WorkDirLock\n'
        'WorkDirLock(sys.argv[1]).acquire()\n'
        'print("held", flush=True)\n'
        'time.sleep(60)\n')


def test_lock_held_by_a_live_process_is_refused_even_if_unreadable(tmp_path):
    work_dir = tmp_path / 'run'
    path = work_dir / LOCK_NAME
    holder = subprocess.Popen(
        [sys.executable, '-c', HOLD, str(work_dir)],
        stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline() == 'held\n'
        assert json.load(open(path))['pid'] == holder.pid
        with pytest.raises(WorkDirLockedError) as info:
            WorkDirLock(str(work_dir)).acquire()
        assert f'(pid {holder.pid} on ' in str(info.value)
        path.write_bytes(b'\x00garbage')  # same file, still locked
        with pytest.raises(WorkDirLockedError) as info:
            WorkDirLock(str(work_dir)).acquire()
        assert str(info.value) == (
            f'The work dir {work_dir} is in use by another run (its record '
            f'{path} is unreadable). Wait for it to end or choose another '
            f'--work-dir; if that run is gone, delete {path}.')
    finally:
        holder.kill()  # like kill -9: the lock file stays, its flock goes
        holder.wait()
    assert path.read_bytes() == b'\x00garbage'
    with mock.patch('mafsar_mm.utils.workdir_lock.print_log') as log:
        WorkDirLock(str(work_dir)).acquire().release()
    assert 'is unreadable).' in log.call_args.args[0]
    assert os.listdir(work_dir) == []
