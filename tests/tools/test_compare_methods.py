"""tools/analysis/compare_methods.py: commands, order-only breakdown and
the markdown table (no training here)."""
import importlib.util
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools', 'analysis')


def _load(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load('compare_methods')
report = _load('comparison_report')


def test_every_row_config_exists_for_both_shots_and_flavours():
    for _, template, _, _ in tool.METHODS.values():
        for suffix, _ in tool.FLAVOURS.values():
            for k in (1, 5):
                path = template.format(k=k, data=suffix)
                assert osp.exists(osp.join(REPO, path)), path


def test_ablations_differ_from_mafsar_only_in_their_options():
    base = tool.METHODS['mafsar_otam'][1]
    for key in ('abl_none', 'abl_tpcm', 'abl_fgma', 'abl_no_gta',
                'abl_no_lma', 'abl_no_joint', 'abl_no_pos'):
        _, template, options, _ = tool.METHODS[key]
        assert template == base and options
    none = set(tool.METHODS['abl_none'][2])
    assert none == set(tool.METHODS['abl_tpcm'][2]) | set(
        tool.METHODS['abl_fgma'][2])
    assert 'model.head.neck=None' in none


def test_commands_use_the_same_budget_and_dump_queries():
    train = tool.train_command('cfg.py', 'wd', 120, ['a=1'])
    assert train[:3] == ['python', 'tools/train.py', 'cfg.py']
    for opt in ('train_cfg.max_iters=120', 'train_cfg.val_interval=120',
                'param_scheduler.0.end=10', 'param_scheduler.1.T_max=120',
                'param_scheduler.1.end=120',
                'default_hooks.checkpoint.interval=120', 'a=1'):
        assert opt in train
    test = tool.test_command('cfg.py', 'wd/iter_120.pth', 'wd', 300, ['a=1'])
    assert test[:4] == ['python', 'tools/test.py', 'cfg.py', 'wd/iter_120.pth']
    assert '300' in test and osp.join('wd', 'metrics_300ep.json') in test
    assert ('test_evaluator.query_dump_file=' +
            osp.join('wd', 'queries_300ep.json')) in test
    assert test[-1] == 'a=1'
    text = tool.test_command('cfg.py', 'wd/iter_120.pth', 'wd', 300,
                             text_only=True)
    assert text[-1] == 'model.head.predict_alpha=1.0'
    assert osp.join('wd', 'metrics_300ep_text.json') in text
    # another number of test episodes writes other files
    assert osp.join('wd', 'metrics_2000ep.json') in tool.test_command(
        'cfg.py', 'wd/iter_120.pth', 'wd', 2000)


def test_trained_model_is_reused_for_other_test_episodes(tmp_path):
    ckpt = tmp_path / 'iter_10.pth'
    ckpt.write_bytes(b'0')
    done = dict(flavour='temporal', key='otam', shots=1, iters=10,
                episodes=300, checkpoint=str(ckpt))
    results = {tool.result_key(done): done}
    assert tool.trained_checkpoint(results, 'temporal', 'otam', 1,
                                   10) is done
    assert tool.trained_checkpoint(results, 'spatial', 'otam', 1,
                                   10) is None
    assert tool.trained_checkpoint(results, 'temporal', 'otam', 5,
                                   10) is None
    assert tool.trained_checkpoint(results, 'temporal', 'otam', 1,
                                   30) is None
    ckpt.unlink()  # the checkpoint is gone: train again
    assert tool.trained_checkpoint(results, 'temporal', 'otam', 1,
                                   10) is None


def test_val_accuracy_is_the_last_logged(tmp_path):
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(
        json.dumps({'loss': 1.0, 'step': 5}) + '\n' +
        json.dumps({'fewshot/acc': 41.0, 'step': 5}) + '\n' +
        json.dumps({'fewshot/acc': 47.5, 'step': 10}) + '\n')
    assert tool.val_accuracy(str(tmp_path)) == 47.5
    assert tool.val_accuracy(str(tmp_path / 'none')) != 47.5


def _meta(tmp_path):
    meta = dict(
        classes=[
            dict(label=i, name=n)
            for i, n in enumerate(['left', 'right', 'up', 'down', 'spin'])
        ],
        pairs=[[0, 1], [2, 3]])
    (tmp_path / 'meta.json').write_text(json.dumps(meta))
    return report.load_pairs(str(tmp_path))


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
    out = report.order_breakdown(episodes, partner)
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


def _otam_result(partner, flavour='temporal', iters=10, episodes=20,
                 acc=100.0, text=None):
    """A finished OTAM result whose one episode is all correct."""
    done = [
        dict(
            class_names=['left', 'right'],
            query_labels=[0, 1],
            pred_labels=[0, 1])
    ]
    return dict(
        flavour=flavour, key='otam', label='OTAM', shots=1, iters=iters,
        episodes=episodes, threads=1, val_acc=55.0, acc=acc, ci95=0.0,
        breakdown=report.order_breakdown(done, partner),
        text_only=text, train_minutes=1.5,
        train_cmd=['python', 'tools/train.py', 'a.py'],
        test_cmd=['python', 'tools/test.py', 'a.py', 'b.pth'])


def test_report_has_one_table_per_flavour_and_budget(tmp_path):
    partner = _meta(tmp_path)
    out = str(tmp_path / 'table.md')
    text_only = dict(acc=30.0, ci95=2.0, cmd=['python', 'tools/test.py',
                                              'a.py', 'b.pth', 'text'])
    spatial = _otam_result(partner, 'spatial', acc=90.0, text=text_only)
    spatial['alpha_val'] = dict(
        best=0.25, configured=0.5, acc=91.5, ci95=0.5,
        sweep_cmd=['python', 'tools/analysis/sweep_fusion_alpha.py', 'a.py'],
        cmd=['python', 'tools/test.py', 'a.py', 'b.pth', 'alpha'])
    rows = [
        spatial,
        _otam_result(partner),
        _otam_result(partner, iters=30, acc=50.0),
    ]
    report.write_report(rows, out, list(tool.METHODS),
                        {'spatial': 'd/s', 'temporal': 'd/t'},
                        findings='## What it shows\n\nsomething')
    text = open(out).read()
    heads = ['## Spatial flavour (d/s): 10 training episodes, 20 test',
             '## Temporal flavour (d/t): 10 training episodes, 20 test',
             '## Temporal flavour (d/t): 30 training episodes, 20 test',
             '## What it shows', '## Commands']
    positions = [text.index(h) for h in heads]
    assert positions == sorted(positions)
    assert ('| OTAM | 1 | 55.0 | 90.0 +/- 0.0 | 30.0 +/- 2.0 | '
            '0.25: 91.5 +/- 0.5 | 100.0 +/- 0.0 (n=2) | 100.0 +/- 0.0 | '
            '1.5 min |') in text
    assert ('| OTAM | 1 | 55.0 | 50.0 +/- 0.0 | - | - | 100.0 +/- 0.0 '
            '(n=2) | 100.0 +/- 0.0 | 1.5 min |') in text
    for cmd in ('tools/test.py a.py b.pth text',
                'tools/analysis/sweep_fusion_alpha.py a.py',
                'tools/test.py a.py b.pth alpha'):
        assert f'OMP_NUM_THREADS=1 python {cmd}' in text


def test_text_weight_is_chosen_for_text_rows_only(tmp_path, monkeypatch):
    assert tool.TEXT_BRANCH == {
        k for k in tool.METHODS
        if k in ('clipfsar', ) or k.startswith(('mafsar', 'abl_'))}
    row = dict(config='c.py', options=['x=1'], work_dir=str(tmp_path),
               checkpoint='m.pth', acc=40.0, ci95=1.0, episodes=20,
               test_cmd=['t'])
    ran = []

    def fake_run(cmd, log_file, threads=0):
        ran.append(cmd)
        if 'sweep_fusion_alpha.py' in cmd[1]:
            out = cmd[cmd.index('--out') + 1]
            with open(out, 'w') as f:
                json.dump(dict(best=best, configured=0.5, rows=[]), f)

    def fake_test(*args, **kwargs):
        ran.append(('test', kwargs['alpha']))
        return dict(acc=45.0, ci95=1.5, cmd=['t2'])

    monkeypatch.setattr(tool, 'run', fake_run)
    monkeypatch.setattr(tool, 'test_and_read', fake_test)
    args = tool.parse_args(['--threads', '1'])
    # the configured weight wins on val: its test is reused, nothing rerun
    best = 0.5
    out = tool.choose_alpha(args, row, {})
    assert (out['acc'], out['cmd']) == (40.0, ['t'])
    assert ran[0][-2:] == ['--cfg-options', 'x=1'] and len(ran) == 1
    # another weight wins: the row is tested again with it
    best = 0.25
    out = tool.choose_alpha(args, row, {})
    assert ran[-1] == ('test', 0.25)
    assert (out['best'], out['acc'], out['cmd']) == (0.25, 45.0, ['t2'])
    # text alone wins and the row was tested on text alone: reused
    best = 1.0
    row['text_only'] = dict(acc=30.0, ci95=2.0, cmd=['t3'])
    count = len(ran)
    out = tool.choose_alpha(args, row, {})
    assert len(ran) == count + 1  # the sweep only
    assert (out['best'], out['acc'], out['cmd']) == (1.0, 30.0, ['t3'])


def test_alpha_test_command_sets_the_weight_and_its_own_files():
    cmd = tool.test_command('c.py', 'm.pth', 'w', 20, alpha=0.25)
    assert cmd[-1] == 'model.head.predict_alpha=0.25'
    assert 'w/metrics_20ep_alpha0.25.json' in cmd
    assert tool.test_command('c.py', 'm.pth', 'w', 20, text_only=True)[
        -1] == 'model.head.predict_alpha=1.0'


def test_report_keeps_the_largest_test_of_a_model(tmp_path):
    partner = _meta(tmp_path)
    out = str(tmp_path / 'table.md')
    small = _otam_result(partner, episodes=300, acc=60.0)
    large = _otam_result(partner, episodes=2000, acc=61.0)
    report.write_report([large, small], out, ['otam'],
                        {'temporal': 'd/t'})
    text = open(out).read()
    assert '| OTAM | 1 | 55.0 | 61.0 +/- 0.0 |' in text
    assert '300 test episodes' not in text and '60.0 +/- 0.0' not in text
