"""tools/analysis/compare_methods.py: commands, order-only breakdown and
the markdown table (no training here)."""
import importlib.util
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis', 'compare_methods.py')


def _load_tool():
    spec = importlib.util.spec_from_file_location('compare_methods', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def test_every_method_config_exists_for_both_shots():
    for _, _, template in tool.METHODS:
        for k in (1, 5):
            assert osp.exists(osp.join(REPO, template.format(k=k)))


def test_commands_use_the_same_budget_and_dump_queries():
    train = tool.train_command('cfg.py', 'wd', 120)
    assert train[:3] == ['python', 'tools/train.py', 'cfg.py']
    for opt in ('train_cfg.max_iters=120', 'train_cfg.val_begin=121',
                'param_scheduler.0.end=10', 'param_scheduler.1.T_max=120',
                'param_scheduler.1.end=120',
                'default_hooks.checkpoint.interval=120'):
        assert opt in train
    test = tool.test_command('cfg.py', 'wd/iter_120.pth', 'wd', 300)
    assert test[:4] == ['python', 'tools/test.py', 'cfg.py', 'wd/iter_120.pth']
    assert '300' in test and osp.join('wd', 'metrics_300ep.json') in test
    assert test[-1] == ('test_evaluator.query_dump_file=' +
                        osp.join('wd', 'queries_300ep.json'))
    # another number of test episodes writes other files
    assert osp.join('wd', 'metrics_2000ep.json') in tool.test_command(
        'cfg.py', 'wd/iter_120.pth', 'wd', 2000)


def test_trained_run_is_reused_for_other_test_episodes(tmp_path):
    ckpt = tmp_path / 'iter_10.pth'
    ckpt.write_bytes(b'0')
    done = dict(
        key='otam',
        shots=1,
        iters=10,
        episodes=300,
        train_minutes=2.0,
        train_cmd=['python', 'tools/train.py', 'a.py'],
        test_cmd=tool.test_command('a.py', str(ckpt), str(tmp_path), 300))
    results = {('otam', 1, 10, 300): done}
    found = tool.trained_run(results, 'otam', 1, 10)
    assert found['checkpoint'] == str(ckpt)
    assert tool.trained_run(results, 'otam', 5, 10) is None
    assert tool.trained_run(results, 'otam', 1, 30) is None
    ckpt.unlink()  # the checkpoint is gone: train again
    assert tool.trained_run(results, 'otam', 1, 10) is None


def _meta(tmp_path):
    meta = dict(
        classes=[
            dict(label=i, name=n)
            for i, n in enumerate(['left', 'right', 'up', 'down', 'spin'])
        ],
        pairs=[[0, 1], [2, 3]])
    (tmp_path / 'meta.json').write_text(json.dumps(meta))
    return tool.load_pairs(str(tmp_path))


def test_order_breakdown(tmp_path):
    partner = _meta(tmp_path)
    assert partner == {
        'left': 'right',
        'right': 'left',
        'up': 'down',
        'down': 'up'
    }
    episodes = [
        # left/right both in: 'left' confused with 'right'; 'up' has no
        # partner here; 'spin' has none at all
        dict(
            class_names=['left', 'right', 'up', 'spin'],
            query_labels=[0, 1, 2, 3],
            pred_labels=[1, 1, 2, 0]),
        # no pair class with its partner
        dict(
            class_names=['spin', 'down'],
            query_labels=[0, 1],
            pred_labels=[0, 0]),
    ]
    out = tool.order_breakdown(episodes, partner)
    # pair classes: episode 1: 2/3 correct, episode 2: 0/1
    assert out['pair']['mean'] == pytest.approx(100 / 3)
    assert out['pair']['episodes'] == 2 and out['pair']['queries'] == 4
    # partner in episode: only episode 1 (left, right): 1/2
    assert out['partner']['mean'] == pytest.approx(50.0)
    assert out['partner']['ci95'] == pytest.approx(0.0)
    assert out['partner']['queries'] == 2
    assert out['to_partner'] == pytest.approx(50.0)
    # order: of the 2 queries predicted as their class or its partner, 1
    # was right; binomial CI 1.96 * sqrt(0.5 * 0.5 / 2)
    assert out['order']['mean'] == pytest.approx(50.0)
    assert out['order']['queries'] == 2
    assert out['order']['ci95'] == pytest.approx(100 * 1.96 * 0.5 / 2**0.5)


def _otam_result(partner, iters=10, episodes=20, acc=100.0):
    """A finished OTAM result whose one episode is all correct."""
    done = [
        dict(
            class_names=['left', 'right'],
            query_labels=[0, 1],
            pred_labels=[0, 1])
    ]
    return dict(
        key='otam',
        label='OTAM',
        shots=1,
        iters=iters,
        episodes=episodes,
        threads=1,
        invocation=tool.invocation(iters, episodes, [1], 1),
        acc=acc,
        ci95=0.0,
        breakdown=tool.order_breakdown(done, partner),
        train_minutes=1.5,
        train_cmd=['python', 'tools/train.py', 'a.py'],
        test_cmd=['python', 'tools/test.py', 'a.py', 'b.pth'])


def test_table(tmp_path):
    partner = _meta(tmp_path)
    args = tool.parse_args([
        '--iters', '10', '--episodes', '20', '--shots', '1', '--methods',
        'otam', 'protonet', '--out',
        str(tmp_path / 'table.md')
    ])
    result = _otam_result(partner)
    # another budget of the same method is its own row
    other = _otam_result(partner, iters=30, acc=50.0)
    tool.write_table([other, result], args)
    text = (tmp_path / 'table.md').read_text()
    row = ('| 10 it, 20 test ep. | OTAM | 1 | 100.00 +/- 0.00 | '
           '100.00 +/- 0.00 | 100.00 +/- 0.00 (n=2) | 0.0 | '
           '100.00 +/- 0.00 | 1.5 min |')
    assert row in text
    assert text.index(row) < text.index('| 30 it, 20 test ep. | OTAM | 1 '
                                        '| 50.00 +/- 0.00 |')
    assert ('nice -n 10 python tools/analysis/compare_methods.py --iters 10 '
            '--episodes 20 --shots 1 --threads 1') in text
    assert 'OMP_NUM_THREADS=1 python tools/train.py a.py' in text
    assert ('Not finished yet (10 it): ProtoNet (CLIP visual, full FT) '
            '(1-shot)') in text


def test_table_keeps_the_largest_test_of_a_model(tmp_path):
    partner = _meta(tmp_path)
    args = tool.parse_args([
        '--iters', '10', '--shots', '1', '--methods', 'otam', '--out',
        str(tmp_path / 'table.md')
    ])
    small = _otam_result(partner, episodes=300, acc=60.0)
    large = _otam_result(partner, episodes=2000, acc=61.0)
    tool.write_table([large, small], args)
    text = (tmp_path / 'table.md').read_text()
    assert '| 10 it, 2000 test ep. | OTAM | 1 | 61.00' in text
    assert '| 10 it, 300 test ep. |' not in text
