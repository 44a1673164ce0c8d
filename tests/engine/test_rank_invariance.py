"""tools/test.py gives the same accuracy on 1 and 2 processes (gloo on CPU),
and reports unusable inputs as one message without a stack trace."""
import json
import os
import subprocess
import sys

import mmengine
import pytest
import torch
from _reliability import REPO, micro_config, save_micro_clip
from mmengine.runner import Runner

import mafsar_mm  # noqa: F401

pytestmark = pytest.mark.slow


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env['OMP_NUM_THREADS'] = '1'  # as torchrun sets it for each process
    return env


def _run(args, timeout=600):
    return subprocess.run(
        args,
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout)


@pytest.fixture(scope='module')
def trained(synthetic_root, tmp_path_factory):
    """A slim checkpoint written by the Runner, and its config file."""
    root = tmp_path_factory.mktemp('rank_invariance')
    pretrained = save_micro_clip(str(root / 'clip.pt'))
    # 7 episodes: uneven over 2 ranks (the sampler pads, results are cut)
    cfg = micro_config(
        synthetic_root,
        str(root / 'train'),
        pretrained=pretrained,
        max_iters=2,
        checkpoint_interval=2,
        test_episodes=7)
    cfg.experiment_name = 'rank_invariance_train'
    Runner.from_cfg(cfg).train()
    config = str(root / 'micro.py')
    cfg.dump(config)
    return config, str(root / 'train' / 'iter_2.pth'), root


def test_same_accuracy_on_one_and_two_processes(trained):
    config, checkpoint, root = trained
    assert torch.load(checkpoint, weights_only=True)['meta']['slim']
    test = os.path.join(REPO, 'tools', 'test.py')
    one = _run([
        sys.executable, test, config, checkpoint, '--work-dir',
        str(root / 'one'), '--dump-metrics',
        str(root / 'one.json'), '--dump',
        str(root / 'one.pkl')
    ])
    assert one.returncode == 0, one.stderr[-3000:]
    two = _run([
        sys.executable, '-m', 'torch.distributed.run', '--standalone',
        '--nproc_per_node=2', test, config, checkpoint, '--launcher',
        'pytorch', '--work-dir',
        str(root / 'two'), '--dump-metrics',
        str(root / 'two.json')
    ])
    assert two.returncode == 0, two.stderr[-3000:]
    metrics_one = json.load(open(root / 'one.json'))
    metrics_two = json.load(open(root / 'two.json'))
    assert metrics_one['fewshot/episodes'] == 7
    assert metrics_one == metrics_two
    # --dump: the predictions of every episode, as in MMAction2 1.x
    preds = mmengine.load(root / 'one.pkl')
    assert len(preds) == 7
    acc = [
        float((p['pred_labels'] == p['query_labels']).float().mean())
        for p in preds
    ]
    assert 100 * sum(acc) / len(acc) == pytest.approx(
        metrics_one['fewshot/acc'])


def test_checkpoint_of_another_architecture_is_one_message(trained):
    config, checkpoint, root = trained
    state = torch.load(checkpoint, weights_only=True)
    state['state_dict'] = {
        k.replace('j_adapters', 'x_adapters'): v
        for k, v in state['state_dict'].items()
    }
    other = str(root / 'other.pth')
    torch.save(state, other)
    result = _run([
        sys.executable,
        os.path.join(REPO, 'tools', 'test.py'), config, other, '--work-dir',
        str(root / 'other')
    ])
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    # torch's load_state_dict(strict=True) lists the keys
    assert last.startswith('error: ') and 'Missing key(s)' in last
    assert 'Unexpected key(s)' in last
    assert 'x_adapters' in result.stderr
