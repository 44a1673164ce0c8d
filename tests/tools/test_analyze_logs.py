"""A real short run of tools/train.py with --amp (bfloat16 on the CPU),
--clip-weights and --tensorboard: validation scalars at their iteration,
TensorBoard events, and tools/analysis/analyze_logs.py's PNG of it."""
import glob
import json
import os.path as osp
import runpy
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests', 'engine'))
from _reliability import micro_config, save_micro_clip  # noqa: E402

TRAIN = osp.join(REPO, 'tools', 'train.py')
ANALYZE = osp.join(REPO, 'tools', 'analysis', 'analyze_logs.py')
TEST = osp.join(REPO, 'tools', 'test.py')


def _run(tool, *args):
    """Run a tool in this process; its exit status."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv('MAFSAR_DEBUG', raising=False)
        mp.setattr(sys, 'argv', [tool, *args])
        with pytest.raises(SystemExit) as info:
            runpy.run_path(tool, run_name='__main__')
    return info.value.code


@pytest.fixture(scope='module')
def run(synthetic_root, tmp_path_factory):
    """4 iterations, validation after 2 and 4, CLIP weights given by
    --clip-weights only (the config names a file that does not exist)."""
    root = tmp_path_factory.mktemp('logged_run')
    work_dir = str(root / 'work')
    cfg = micro_config(
        synthetic_root, work_dir, pretrained=str(root / 'missing.pt'))
    cfg.val_dataloader = cfg.test_dataloader.copy()
    cfg.val_dataloader.dataset.num_episodes = 4
    cfg.val_cfg = dict(type='FewShotValLoop', feature_cache=True)
    cfg.val_evaluator = cfg.test_evaluator
    cfg.train_cfg.val_interval = 2
    config = str(root / 'micro.py')
    cfg.dump(config)
    weights = save_micro_clip(str(root / 'micro_clip.pt'))
    status = _run(TRAIN, config, '--amp', '--clip-weights', weights,
                  '--tensorboard')
    (vis_data, ) = glob.glob(osp.join(work_dir, '*', 'vis_data'))
    return dict(
        root=root,
        config=config,
        status=status,
        work_dir=work_dir,
        vis_data=vis_data)


def _records(run):
    with open(osp.join(run['vis_data'], 'scalars.json')) as f:
        return [json.loads(line) for line in f]


def test_missing_clip_weights_stop_before_anything_is_built(
        run, tmp_path, capsys):
    capsys.readouterr()
    status = _run(TRAIN, run['config'], '--work-dir', str(tmp_path / 'w'))
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(err) == 1
    assert err[0].startswith('error: model.backbone.clip: CLIP weights '
                             'file ')
    assert '--clip-weights PATH' in err[0]
    assert not osp.exists(tmp_path / 'w')  # refused before the work dir


def test_validation_scalars_have_the_iteration_as_step(run):
    assert run['status'] == 0
    records = _records(run)
    train = [r['step'] for r in records if 'loss' in r]
    val = [r['step'] for r in records if 'fewshot/acc' in r]
    assert train == [1, 2, 3, 4]
    assert val == [2, 4]  # MMEngine's default logged them at step 0


def test_amp_trains_with_bfloat16_autocast_on_cpu(run):
    with open(osp.join(run['work_dir'], 'micro.py')) as f:
        dumped = f.read()
    assert "type='CPUAmpOptimWrapper'" in dumped
    assert osp.isfile(osp.join(run['work_dir'], 'iter_4.pth'))
    assert all(0 < r['loss'] < 100 for r in _records(run) if 'loss' in r)


def test_tensorboard_events_hold_the_scalars(run):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    (events, ) = glob.glob(osp.join(run['vis_data'], 'events.out.*'))
    acc = EventAccumulator(events)
    acc.Reload()
    assert [e.step for e in acc.Scalars('loss')] == [1, 2, 3, 4]
    assert [e.step for e in acc.Scalars('fewshot/acc')] == [2, 4]


def test_analyze_logs_plots_a_real_log(run, tmp_path, capsys):
    out = str(tmp_path / 'curves.png')
    capsys.readouterr()
    assert _run(ANALYZE, run['work_dir'], '--out', out) == 0
    printed = capsys.readouterr().out
    with open(out, 'rb') as f:
        png = f.read()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10000
    acc = [r['fewshot/acc'] for r in _records(run) if 'fewshot/acc' in r]
    assert (f'fewshot/acc: 2 points, first {acc[0]:.4g} (step 2), last '
            f'{acc[1]:.4g} (step 4)') in printed
    assert 'loss: 4 points' in printed
    assert f'Curves of loss, loss_q2s, loss_text, fewshot/acc written to ' \
        f'{out}' in printed


@pytest.mark.parametrize('args,message', [
    (['--keys', 'los'], "error: --keys: los not in the logs (they have: "),
    (['--out', 'x.pth'], 'error: --out x.pth: the figure is a PNG'),
])
def test_analyze_logs_errors_are_one_line(run, capsys, args, message):
    capsys.readouterr()
    assert _run(ANALYZE, run['work_dir'], *args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)


def test_test_tool_takes_the_clip_weights_option(run, tmp_path, capsys):
    """tools/test.py on the run's slim checkpoint: the CLIP comes from
    --clip-weights (the config's file does not exist)."""
    ckpt = osp.join(run['work_dir'], 'iter_4.pth')
    metrics = str(tmp_path / 'metrics.json')
    args = [
        run['config'], ckpt, '--work-dir',
        str(tmp_path / 'w'), '--num-episodes', '2'
    ]
    capsys.readouterr()
    assert _run(TEST, *args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and '--clip-weights PATH' in err[0]
    weights = str(run['root'] / 'micro_clip.pt')
    assert _run(TEST, *args, '--clip-weights', weights, '--dump-metrics',
                metrics) == 0
    with open(metrics) as f:
        assert json.load(f)['fewshot/episodes'] == 2
