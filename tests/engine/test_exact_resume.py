"""Exact resume (full and slim checkpoints) with MMEngine's Runner.

Run A trains N=4 iterations in one go. Run B trains the same config, is
killed right after its checkpoint at N/2 (an exception from a hook, like a
SIGKILL after the save), and a new Runner resumes with ``--resume``'s
logic and continues to N. The tuned weights, the optimizer state and the
episodes of iterations N/2..N must be bit-identical.
"""
import os.path as osp

import pytest
import torch
from _reliability import micro_config, save_micro_clip, tunable_state
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mafsar_mm  # noqa: F401
from mafsar_mm.engine import (CheckpointMismatchError, find_resume_checkpoint,
                              frozen_pretrained_keys, load_model_checkpoint)

N = 4


class _Killed(Exception):
    pass


class _KillAfter(Hook):
    """Raise after iteration ``n`` (after its checkpoint was written)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.n:
            raise _Killed()


class _RecordEpisodes(Hook):
    """Remember the episodes (video ids) each iteration trained on."""

    def __init__(self) -> None:
        self.seen = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.seen[runner.iter] = [
            tuple(s.video_ids) for s in data_batch['data_samples']
        ]


def _runner(cfg, name):
    cfg = cfg.copy()
    cfg.experiment_name = name  # separate loggers / message hubs
    runner = Runner.from_cfg(cfg)
    recorder = _RecordEpisodes()
    runner.register_hook(recorder)
    return runner, recorder


def _optimizer_state(runner):
    return runner.optim_wrapper.optimizer.state_dict()['state']


@pytest.fixture(scope='module', params=['full', 'slim'])
def resumed_runs(request, synthetic_root, tmp_path_factory):
    """Run A (N iterations) and run B (N/2, killed, resumed to N)."""
    root = tmp_path_factory.mktemp(f'resume_{request.param}')
    pretrained = None
    if request.param == 'slim':
        # a "pretrained" CLIP file: slim='auto' leaves it out of checkpoints
        pretrained = save_micro_clip(str(root / 'clip.pt'))

    def config(name):
        return micro_config(
            synthetic_root,
            str(root / name),
            pretrained=pretrained,
            max_iters=N,
            checkpoint_interval=N // 2)

    run_a, seen_a = _runner(config('a'), f'a_{request.param}')
    run_a.train()

    run_b1, _ = _runner(config('b'), f'b1_{request.param}')
    run_b1.register_hook(_KillAfter(N // 2), priority='LOWEST')
    with pytest.raises(_Killed):
        run_b1.train()
    # what tools/train.py --resume does
    cfg = config('b')
    cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    cfg.resume = True
    run_b2, seen_b = _runner(cfg, f'b2_{request.param}')
    run_b2.train()
    return dict(
        mode=request.param,
        pretrained=pretrained,
        config=config,
        a=run_a,
        b=run_b2,
        seen_a=seen_a.seen,
        seen_b=seen_b.seen,
        resumed_from=cfg.load_from,
        root=root)


def test_resume_is_exact(resumed_runs):
    run_a, run_b = resumed_runs['a'], resumed_runs['b']
    assert resumed_runs['resumed_from'].endswith(f'iter_{N // 2}.pth')
    assert run_b.iter == run_a.iter == N
    # same episode stream after the resume
    assert sorted(resumed_runs['seen_b']) == list(range(N // 2, N))
    for it in range(N // 2, N):
        assert resumed_runs['seen_b'][it] == resumed_runs['seen_a'][it]
    # bit-identical tuned weights (dropout in TPCM: same RNG state too)
    tuned_a, tuned_b = tunable_state(run_a.model), tunable_state(run_b.model)
    assert tuned_a.keys() == tuned_b.keys() and len(tuned_a) > 0
    for name, value in tuned_a.items():
        assert torch.equal(value, tuned_b[name]), name
    # (and training did move them after the resume point)
    halfway = torch.load(
        resumed_runs['resumed_from'], weights_only=True)['state_dict']
    assert any(not torch.equal(v, halfway[k]) for k, v in tuned_a.items())
    # and the same optimizer state
    state_a, state_b = _optimizer_state(run_a), _optimizer_state(run_b)
    assert state_a.keys() == state_b.keys()
    for idx in state_a:
        for key, value in state_a[idx].items():
            assert torch.equal(value, state_b[idx][key]), (idx, key)


def test_checkpoints_are_weights_only_and_slim_when_pretrained(resumed_runs):
    path = resumed_runs['resumed_from']
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    checkpoint = torch.load(path, weights_only=True)
    frozen = frozen_pretrained_keys(resumed_runs['a'].model)
    assert frozen  # the micro CLIP is frozen
    keys = checkpoint['state_dict'].keys()
    if resumed_runs['mode'] == 'slim':
        assert checkpoint['meta']['slim'] is True
        info = checkpoint['meta']['slim_info']
        assert info['prefixes'] == ['backbone.visual', 'text_encoder']
        assert sorted(info['dropped_keys']) == sorted(frozen)
        assert not any(k in keys for k in frozen)
    else:  # random CLIP (pretrained=None): cannot be rebuilt, kept
        assert 'slim' not in checkpoint['meta']
        assert all(k in keys for k in frozen)
    assert 'optimizer' in checkpoint and 'param_schedulers' in checkpoint


def test_final_checkpoint_loads_into_fresh_model(resumed_runs):
    from mmaction.registry import MODELS
    cfg = resumed_runs['config']('unused')
    torch.manual_seed(123)  # frozen weights must come from the source
    model = MODELS.build(cfg.model)
    final = osp.join(resumed_runs['b'].work_dir, f'iter_{N}.pth')
    load_model_checkpoint(model, final)
    trained = resumed_runs['b'].model.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, trained[key]), key


def test_checkpoint_with_another_clip(resumed_runs):
    """A slim checkpoint is refused with another CLIP (fingerprint); a full
    one carries its own CLIP weights and overrides it."""
    from mmaction.registry import MODELS
    other = save_micro_clip(str(resumed_runs['root'] / 'other.pt'), seed=1)
    cfg = resumed_runs['config']('unused')
    cfg.model.backbone.clip.pretrained = other
    cfg.model.text_encoder.clip.pretrained = other
    model = MODELS.build(cfg.model)
    if resumed_runs['mode'] == 'slim':
        with pytest.raises(CheckpointMismatchError, match='fingerprint'):
            load_model_checkpoint(model, resumed_runs['resumed_from'])
    else:
        load_model_checkpoint(model, resumed_runs['resumed_from'])
        halfway = torch.load(
            resumed_runs['resumed_from'], weights_only=True)['state_dict']
        for key, value in model.state_dict().items():
            assert torch.equal(value, halfway[key]), key


def test_resume_from_slim_checkpoint_without_optimizer(synthetic_root,
                                                       tmp_path):
    """``save_optimizer=False`` gives the smallest slim checkpoint (tuned
    weights + schedule + message hub); resuming from it continues at the
    saved iteration on the same episode stream. The optimizer starts
    afresh: its moments and, as MMEngine's schedulers scale the optimizer's
    current value, its learning rate (no config uses this setting; keep
    ``save_optimizer=True`` to resume a run)."""
    pretrained = save_micro_clip(str(tmp_path / 'clip.pt'))

    def config():
        cfg = micro_config(
            synthetic_root,
            str(tmp_path / 'run'),
            pretrained=pretrained,
            max_iters=N,
            checkpoint_interval=N // 2)
        cfg.default_hooks.checkpoint.save_optimizer = False
        return cfg

    cfg = config()
    cfg.work_dir = str(tmp_path / 'straight')
    straight, _ = _runner(cfg, 'no_optim_0')  # N iterations in one go
    straight.train()

    first, seen_first = _runner(config(), 'no_optim_1')
    first.register_hook(_KillAfter(N // 2), priority='LOWEST')
    with pytest.raises(_Killed):
        first.train()
    path = osp.join(first.work_dir, f'iter_{N // 2}.pth')
    checkpoint = torch.load(path, weights_only=True)
    assert 'optimizer' not in checkpoint
    assert checkpoint['meta']['slim'] is True
    assert 'param_schedulers' in checkpoint

    cfg = config()
    cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    cfg.resume = True
    assert cfg.load_from == path
    resumed, seen = _runner(cfg, 'no_optim_2')
    resumed.train()
    assert resumed.iter == N
    assert sorted(seen.seen) == list(range(N // 2, N))
    halfway = checkpoint['state_dict']
    tuned = tunable_state(resumed.model)
    assert any(not torch.equal(v, halfway[k]) for k, v in tuned.items())
