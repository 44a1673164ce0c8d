"""A rank that stops answering (``kill -STOP``) ends a gloo run after the
process-group timeout, with one line naming it (two real processes)."""
import datetime
import multiprocessing
import os
import signal
import socket
import sys
import time

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from mafsar_mm.utils import dist as dist_utils
from mafsar_mm.utils.dist import (DEFAULT_TIMEOUT, dist_timeout,
                                  is_dist_timeout, timeout_line)
from mafsar_mm.utils.errors import InputError, run_main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TIMEOUT = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _rank_main(rank: int, port: int, agent_store: bool, log: str,
               ready) -> None:
    """One rank (a forked process): set up as the tools do, all-reduce
    until a peer stops answering; errors reported as by the tools."""
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE='2',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port))
    if agent_store:  # the store is hosted outside the ranks, as torchrun
        os.environ['TORCHELASTIC_USE_AGENT_STORE'] = 'True'
    sys.stderr = open(log, 'w')  # what the rank prints
    dist_utils.HEARTBEAT_WINDOW = 2.0  # shorter than the default

    def main() -> None:
        cfg = Config(dict(env_cfg=dict(dist_cfg=dict(timeout=TIMEOUT))))
        with dist_utils.dist_timeout_reported(cfg):
            dist_utils.setup_multi_process(cfg, 'pytorch')
            x = torch.ones(1)
            dist.all_reduce(x)
            ready.set()
            while True:
                dist.all_reduce(x)
                time.sleep(0.02)

    sys.exit(run_main(main))


@pytest.mark.parametrize('stopped,agent_store', [(1, False), (0, True),
                                                 (0, False)])
def test_stopped_rank_is_named_after_the_timeout(tmp_path, stopped,
                                                 agent_store):
    """Rank 0 hosting the store (plain ``env://``), or a store outside the
    ranks (torchrun's agent); when the stopped rank holds the store, the
    line says that the store does not answer either. The stopped rank is
    SIGKILLed after SIGCONT, nothing is left running."""
    port = _free_port()
    store = None
    if agent_store:  # what torchrun's agent does for its workers
        store = dist.TCPStore(
            '127.0.0.1',
            port,
            is_master=True,
            timeout=datetime.timedelta(seconds=60),
            wait_for_workers=False)
    context = multiprocessing.get_context('fork')
    logs = [str(tmp_path / f'rank{rank}.err') for rank in range(2)]
    ready = [context.Event() for _ in range(2)]
    procs = [
        context.Process(
            target=_rank_main,
            args=(rank, port, agent_store, logs[rank], ready[rank]))
        for rank in range(2)
    ]
    for proc in procs:
        proc.start()
    survivor = procs[1 - stopped]
    try:
        for rank in range(2):
            assert ready[rank].wait(60), open(logs[rank]).read()[-3000:]
        os.kill(procs[stopped].pid, signal.SIGSTOP)
        start = time.monotonic()
        survivor.join(60)
        waited = time.monotonic() - start
        err = open(logs[1 - stopped]).read()
        assert survivor.exitcode == 1, err[-3000:]
        what = '(process-group timeout, env_cfg.dist_cfg.timeout)'
        if stopped == 0 and not agent_store:
            expected = (
                f'error: rank 1: a collective operation waited more than '
                f'{TIMEOUT} s {what} and the rendezvous store at '
                f'127.0.0.1:{port} does not answer either (its host, rank 0 '
                'or the launcher, has stopped); stopping.')
        else:
            expected = (f'error: rank {stopped} did not answer within '
                        f'{TIMEOUT} s {what}; stopping.')
        assert err.strip().splitlines() == [expected]
        # the timeout, then the heartbeat window (2 s here)
        assert TIMEOUT - 0.5 < waited < TIMEOUT + 20
    finally:
        for proc in procs:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGCONT)
                proc.kill()
            proc.join(30)
    assert procs[stopped].exitcode == -signal.SIGKILL
    assert not any(proc.is_alive() for proc in procs)  # no leftovers
    del store


def test_timeout_config_default_and_bad_values():
    assert dist_timeout(Config(dict())) == DEFAULT_TIMEOUT == 1800
    cfg = Config.fromfile(os.path.join(REPO, 'configs', '_base_',
                                       'default_runtime.py'))
    assert dist_timeout(cfg) == 1800
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(timeout=20))))
    assert dist_timeout(cfg) == 20.0
    for bad in (0, -5, 'long', True, float('inf')):
        cfg = Config(dict(env_cfg=dict(dist_cfg=dict(timeout=bad))))
        with pytest.raises(InputError) as info:
            dist_timeout(cfg)
        assert str(info.value) == (
            'env_cfg.dist_cfg.timeout must be a positive number of '
            f'seconds (default 1800), got {bad!r}')


def test_timeout_messages():
    gloo = RuntimeError('[../gloo/transport/tcp/unbound_buffer.cc:78] '
                        'Timed out waiting 3000ms for recv operation to '
                        'complete')
    assert is_dist_timeout(gloo)
    wrapped = ValueError('while saving')
    wrapped.__context__ = RuntimeError('Application timeout caused pair '
                                       'closure')
    assert is_dist_timeout(wrapped)
    assert not is_dist_timeout(RuntimeError('DataLoader worker exited'))
    assert not is_dist_timeout(ValueError('Timed out waiting 3 ms'))
    assert timeout_line(20, 0, 3, [1, 2]) == (
        'ranks 1, 2 did not answer within 20 s (process-group timeout, '
        'env_cfg.dist_cfg.timeout); stopping.')
    assert 'although all 2 ranks are running' in timeout_line(20, 0, 2, [])
    # the rank that reports is never named as silent
    assert 'although all' in timeout_line(20, 1, 2, [1])
    assert 'rendezvous store' in timeout_line(20, 1, 2, None)
    assert 'another rank stopped answering' in timeout_line(
        20, 0, 2, 'unknown')
