"""tools/analysis/compare_methods.py: commands, the choice of learning rate
and text weight on val, the order-only breakdown and the markdown table
(no training here: ``run`` is replaced by a fake)."""
import json
import os.path as osp

import pytest
from conftest import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools', 'analysis')


def _load(name):
    return load_tool(osp.join(TOOLS, f'{name}.py'), name)


tool = _load('compare_methods')
report = _load('comparison_report')


def test_every_row_config_exists_for_both_shots_and_flavours():
    for _, template, _, _ in tool.METHODS.values():
        for suffix, _ in tool.FLAVOURS.values():
            for k in (1, 5):
                path = template.format(k=k, data=suffix)
                assert osp.exists(osp.join(REPO, path)), path
    assert tool.TEXT_BRANCH == {
        k for k in tool.METHODS
        if k == 'clipfsar' or k.startswith(('mafsar', 'abl_'))}
    assert set(tool.LR_ON_VAL) <= set(tool.METHODS)
    assert tool.LR_SOURCE in tool.LR_ON_VAL


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
    # another number of test episodes writes other files
    assert osp.join('wd', 'metrics_2000ep.json') in tool.test_command(
        'cfg.py', 'wd/iter_120.pth', 'wd', 2000)


def test_alpha_test_command_sets_the_weight_and_its_own_files():
    cmd = tool.test_command('c.py', 'm.pth', 'w', 20, alpha=0.25)
    assert cmd[-1] == 'model.head.predict_alpha=0.25'
    assert osp.join('w', 'metrics_20ep_alpha0.25.json') in cmd
    text = tool.test_command('c.py', 'm.pth', 'w', 20, text_only=True)
    assert text[-1] == 'model.head.predict_alpha=1.0'
    assert osp.join('w', 'metrics_20ep_text.json') in text


def test_trained_model_is_reused_for_other_test_episodes(tmp_path):
    ckpt = tmp_path / 'iter_10.pth'
    ckpt.write_bytes(b'0')
    done = dict(flavour='temporal', key='otam', shots=1, iters=10,
                episodes=300, lr=1e-3, checkpoint=str(ckpt))
    results = {tool.result_key(done): done}
    find = tool.trained_checkpoint
    assert find(results, 'temporal', 'otam', 1, 10, 1e-3) is done
    assert find(results, 'spatial', 'otam', 1, 10, 1e-3) is None
    assert find(results, 'temporal', 'otam', 5, 10, 1e-3) is None
    assert find(results, 'temporal', 'otam', 1, 30, 1e-3) is None
    # a model trained at another learning rate is another model
    assert find(results, 'temporal', 'otam', 1, 10, 1e-4) is None
    ckpt.unlink()  # the checkpoint is gone: train again
    assert find(results, 'temporal', 'otam', 1, 10, 1e-3) is None


def test_chosen_is_the_best_on_val_ties_to_the_higher_rate():
    a, b, c = (dict(lr=lr, val=dict(acc=acc))
               for lr, acc in ((1e-3, 50.0), (1e-4, 60.0), (1e-5, 60.0)))
    assert tool.chosen([a, b]) is b
    # the tool and the page break ties alike, whatever the --lrs order
    assert tool.chosen([a, b, c]) is b and tool.chosen([c, b]) is b
    assert tool.chosen([a, dict(lr=1e-4)]) is None  # one not scored yet
    assert tool.chosen([]) is None


def _source(lr, acc, episodes=20):
    return dict(flavour='temporal', key='mafsar_otam', shots=1, iters=10,
                episodes=episodes, lr=lr, val=dict(acc=acc))


def _args(tmp_path, *extra):
    return tool.parse_args([
        '--work-dir', str(tmp_path / 'wd'), '--results',
        str(tmp_path / 'results.json'), '--iters', '10', '--episodes', '20',
        '--threads', '1', *extra
    ])


def test_source_lr_exits_until_the_source_is_finished(tmp_path):
    args = _args(tmp_path)
    with pytest.raises(SystemExit) as err:
        tool.source_lr(args, {}, 1)
    assert 'mafsar_otam' in str(err.value)
    assert str(err.value).startswith('error: ')
    # one learning rate scored, the other not yet (or tested elsewhere)
    rows = [_source(1e-3, 40.0), _source(1e-4, 50.0, episodes=300)]
    (tmp_path / 'results.json').write_text(json.dumps(rows))
    with pytest.raises(SystemExit):
        tool.source_lr(args, {}, 1)
    # both scored (read from disk: another process ran them)
    rows[1]['episodes'] = 20
    (tmp_path / 'results.json').write_text(json.dumps(rows))
    assert tool.source_lr(args, {}, 1) == 1e-4
    with pytest.raises(SystemExit):  # not for the other shots
        tool.source_lr(args, {}, 5)


def test_source_lr_reads_this_process_rows(tmp_path):
    (tmp_path / 'results.json').write_text(
        json.dumps([_source(1e-3, 40.0)]))
    results = {
        tool.result_key(r): r
        for r in (_source(1e-3, 70.0), _source(1e-4, 50.0))
    }
    # this process's rows win over the file's
    assert tool.source_lr(_args(tmp_path), results, 1) == 1e-3


def _dump(path, data):
    with open(path, 'w') as f:
        json.dump(data, f)


def _fake_run(ran, sweep=None):
    """A ``run`` that records the commands and writes what they would."""

    def fake(cmd, log_file, threads=0):
        ran.append(cmd)
        if cmd[1] == 'tools/train.py':
            iters = cmd[cmd.index('--cfg-options') + 1].split('=')[1]
            work_dir = cmd[cmd.index('--work-dir') + 1]
            _dump(osp.join(work_dir, f'iter_{iters}.pth'), {})
        elif cmd[1] == 'tools/test.py':
            text = cmd[-1] == 'model.head.predict_alpha=1.0'
            _dump(cmd[cmd.index('--dump-metrics') + 1],
                  {'fewshot/acc': 30.0 if text else 60.0,
                   'fewshot/ci95': 1.0})
            dump = 'test_evaluator.query_dump_file='
            for opt in cmd:
                if opt.startswith(dump):
                    _dump(opt[len(dump):], dict(episodes=[]))
        else:
            _dump(cmd[cmd.index('--out') + 1], sweep)

    return fake


def test_candidate_trains_at_its_lr_and_scores_on_val(tmp_path,
                                                      monkeypatch):
    ran = []
    monkeypatch.setattr(tool, 'run', _fake_run(ran))
    args = _args(tmp_path)
    lr_opt = 'optim_wrapper.optimizer.lr=0.0001'
    row = tool.candidate(args, 'otam', 1, 1e-4, {})
    assert row['lr'] == 1e-4 and lr_opt in row['options']
    assert row['work_dir'] == str(
        tmp_path / 'wd' / 'temporal' / 'otam_5w1s_10it_lr0.0001')
    train, val = ran
    assert train == row['train_cmd'] and lr_opt in train
    # scored by tools/test.py on the val split, at this learning rate too
    assert val[1] == 'tools/test.py' and lr_opt in val
    assert 'test_dataloader.dataset.ann_file=val.txt' in val
    assert str(tool.VAL_EPISODES) in val
    assert row['val'] == dict(acc=60.0, ci95=1.0, alpha=None, cmd=val)
    assert 'acc' not in row  # chosen on val first, tested later

    ran.clear()
    # the rate is on every command, whatever the config's
    row = tool.candidate(args, 'otam', 1, 1e-3, {})
    assert row['work_dir'] == str(tmp_path / 'wd' / 'temporal' /
                                  'otam_5w1s_10it_lr0.001')
    assert all('optim_wrapper.optimizer.lr=0.001' in cmd for cmd in ran)
    # another number of test episodes reuses the model and its val score
    ran.clear()
    again = tool.candidate(_args(tmp_path, '--episodes', '40'), 'otam', 1,
                           1e-3, {tool.result_key(row): row})
    assert ran == [] and again['episodes'] == 40
    assert (again['checkpoint'], again['val']) == (row['checkpoint'],
                                                   row['val'])


def test_candidate_with_text_is_scored_by_the_weight_sweep(
        tmp_path, monkeypatch):
    ran = []
    sweep = dict(best=0.25, configured=0.5, rows=[
        dict(alpha=a, acc=acc, ci95=2.0)
        for a, acc in ((0.0, 40.0), (0.25, 52.0), (0.5, 50.0), (1.0, 30.0))
    ])
    monkeypatch.setattr(tool, 'run', _fake_run(ran, sweep))
    row = tool.candidate(_args(tmp_path), 'mafsar_otam', 1, 1e-3,
                         {})
    train, val = ran
    assert val[1] == 'tools/analysis/sweep_fusion_alpha.py'
    assert val[val.index('--split') + 1] == 'val'
    assert val[3] == row['checkpoint'] == osp.join(row['work_dir'],
                                                   'iter_10.pth')
    assert (row['val']['acc'], row['val']['ci95'],
            row['val']['alpha']) == (52.0, 2.0, 0.25)
    assert row['val']['cmd'] == val


def _tested(tmp_path, monkeypatch, key, alpha):
    ran = []
    monkeypatch.setattr(tool, 'run', _fake_run(ran))
    row = dict(key=key, config='c.py', options=['x=1'],
               work_dir=str(tmp_path), checkpoint='m.pth',
               val=dict(acc=50.0, ci95=1.0, alpha=alpha))
    tool.test_row(_args(tmp_path), row, {})
    return row, ran


def test_test_row_uses_the_val_weight_and_tests_text_alone(
        tmp_path, monkeypatch):
    row, ran = _tested(tmp_path, monkeypatch, 'mafsar_otam', 0.25)
    assert len(ran) == 2 and all(c[1] == 'tools/test.py' for c in ran)
    assert {c[-1] for c in ran} == {'model.head.predict_alpha=1.0',
                                    'model.head.predict_alpha=0.25'}
    assert row['test_cmd'][-1] == 'model.head.predict_alpha=0.25'
    assert '20' in row['test_cmd'] and 'x=1' in row['test_cmd']
    assert (row['acc'], row['text_only']['acc']) == (60.0, 30.0)
    assert row['text_only']['cmd'] != row['test_cmd']


def test_test_row_runs_one_test_when_val_picks_text_alone(
        tmp_path, monkeypatch):
    # a row that does not test text alone, but val chose text alone
    row, ran = _tested(tmp_path, monkeypatch, 'mafsar_bimhm', 1.0)
    assert len(ran) == 1 and ran[0][-1] == 'model.head.predict_alpha=1.0'
    assert row['test_cmd'] == row['text_only']['cmd'] == ran[0]
    assert row['acc'] == row['text_only']['acc'] == 30.0
    # no text branch: one test, without a weight
    row, ran = _tested(tmp_path, monkeypatch, 'otam', None)
    assert len(ran) == 1 and row['text_only'] is None
    assert not any('predict_alpha' in o for o in ran[0])


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
    assert partner == dict(left='right', right='left', up='down',
                           down='up')
    episodes = [
        # left/right both in: 'left' confused with 'right'; 'up' has no
        # partner here; 'spin' has none at all
        dict(class_names=['left', 'right', 'up', 'spin'],
             query_labels=[0, 1, 2, 3], pred_labels=[1, 1, 2, 0]),
        # no pair class with its partner
        dict(class_names=['spin', 'down'], query_labels=[0, 1],
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


_ALL_RIGHT = [dict(class_names=['left', 'right'], query_labels=[0, 1],
                   pred_labels=[0, 1])]


def _cand(partner, key='otam', lr=1e-3, val=55.0, acc=None, alpha=None,
          text=None, flavour='temporal', iters=10, episodes=20):
    """A candidate scored on val; tested (all correct) when ``acc``."""
    label = {'otam': 'OTAM', 'mafsar_otam': 'MA-FSAR + OTAM'}.get(key, key)
    row = dict(flavour=flavour, key=key, label=label, shots=1, iters=iters,
               episodes=episodes, lr=lr, threads=1, train_minutes=1.5,
               train_cmd=['python', 'tools/train.py', f'{key}.py',
                          f'lr={lr:g}'],
               val=dict(acc=val, ci95=1.0, alpha=alpha,
                        cmd=['python', 'tools/test.py', f'val{lr:g}']))
    if acc is not None:
        row.update(acc=acc, ci95=0.0, text_only=text,
                   breakdown=report.order_breakdown(_ALL_RIGHT, partner),
                   test_cmd=['python', 'tools/test.py', f'test{lr:g}'])
    return row


def _write(tmp_path, rows, **kwargs):
    out = str(tmp_path / 'table.md')
    report.write_report(rows, out, list(tool.METHODS),
                        {'spatial': 'd/s', 'temporal': 'd/t'}, **kwargs)
    return open(out).read()


def test_report_has_one_table_per_flavour_and_budget(tmp_path):
    partner = _meta(tmp_path)
    text_only = dict(acc=30.0, ci95=2.0, cmd=['python', 'tools/test.py',
                                              'text'])
    text = _write(tmp_path, [
        _cand(partner, 'mafsar_otam', acc=90.0, alpha=0.25, text=text_only,
              flavour='spatial'),
        _cand(partner, acc=60.0),
        _cand(partner, iters=30, acc=50.0),
    ], findings='## What it shows\n\nsomething')
    heads = ['## Spatial flavour (d/s): 10 training episodes, 20 test',
             '## Temporal flavour (d/t): 10 training episodes, 20 test',
             '## Temporal flavour (d/t): 30 training episodes, 20 test',
             '## What it shows', '## Commands']
    positions = [text.index(h) for h in heads]
    assert positions == sorted(positions)
    assert ('| MA-FSAR + OTAM | 1 | 0 / 0 | **0.001: 55.0** | 0.25 | '
            '55.0 +/- 1.0 | '
            '90.0 +/- 0.0 | 30.0 +/- 2.0 | 100.0 +/- 0.0 (n=2) | '
            '100.0 +/- 0.0 | 1.5 min |') in text
    assert ('| OTAM | 1 | 0 / 0 | **0.001: 55.0** | - | 55.0 +/- 1.0 | '
            '50.0 +/- 0.0 '
            '| - | 100.0 +/- 0.0 (n=2) |') in text
    for cmd in ('tools/train.py mafsar_otam.py lr=0.001', 'tools/test.py '
                'val0.001', 'tools/test.py test0.001', 'tools/test.py text'):
        assert f'OMP_NUM_THREADS=1 python {cmd}' in text


def test_report_shows_the_candidate_chosen_on_val(tmp_path):
    partner = _meta(tmp_path)
    rows = [
        _cand(partner, 'mafsar_otam', lr=1e-4, val=45.0, acc=40.0),
        _cand(partner, 'mafsar_otam', lr=1e-3, val=60.0, acc=70.0),
        # tested in an earlier run, no longer the best on val
        _cand(partner, lr=1e-4, val=40.0, acc=99.0),
        _cand(partner, lr=1e-3, val=55.0, acc=61.0),
        # trains at the source's rate: one candidate
        _cand(partner, 'abl_tpcm', lr=1e-3, val=50.0, acc=58.0),
    ]
    text = _write(tmp_path, rows, lr_source='mafsar_otam',
                  lr_own=tool.LR_ON_VAL)
    assert ('| OTAM | 1 | 0 / 0 | **0.001: 55.0**, 0.0001: 40.0 | - | '
            '55.0 +/- 1.0 '
            '| 61.0 +/- 0.0 | - |') in text
    assert ('| MA-FSAR + OTAM | 1 | 0 / 0 | **0.001: 60.0**, 0.0001: 45.0 '
            '| - | '
            '60.0 +/- 1.0 | 70.0 +/- 0.0 |') in text
    assert "| abl_tpcm | 1 | 0 / 0 | 0.001 (MA-FSAR + OTAM's) | - |" in text
    assert '99.0' not in text and '40.0 +/- 0.0' not in text
    # every candidate's training and val, only the chosen one's test
    assert 'tools/train.py otam.py lr=0.0001' in text
    assert 'tools/test.py val0.0001' in text
    assert 'tools/test.py test0.0001' not in text
    # a method that chooses its own rate but has one candidate so far
    text = _write(tmp_path, rows[3:], lr_source='mafsar_otam',
                  lr_own=tool.LR_ON_VAL)
    assert '| OTAM | 1 | 0 / 0 | **0.001: 55.0** |' in text


def test_report_keeps_the_largest_finished_test_of_a_model(tmp_path):
    partner = _meta(tmp_path)
    small = [_cand(partner, lr=1e-3, val=55.0, episodes=300, acc=60.0),
             _cand(partner, lr=1e-4, val=50.0, episodes=300)]
    large = [_cand(partner, lr=1e-3, val=55.0, episodes=2000, acc=61.0),
             _cand(partner, lr=1e-4, val=50.0, episodes=2000)]
    text = _write(tmp_path, large + small)
    assert '| 55.0 +/- 1.0 | 61.0 +/- 0.0 |' in text
    assert '300 test episodes' not in text and '60.0 +/- 0.0' not in text
    # the best of the larger test is not tested yet: the smaller one stays
    large[1]['val']['acc'] = 70.0
    text = _write(tmp_path, large + small)
    assert '2000 test episodes' not in text and '61.0' not in text
    assert '| 55.0 +/- 1.0 | 60.0 +/- 0.0 |' in text
    # nothing else: no table at all
    text = _write(tmp_path, large)
    assert '## Temporal flavour' not in text and '| OTAM |' not in text
    del small[1]['val']  # a candidate not scored yet hides its group
    text = _write(tmp_path, small)
    assert '## Temporal flavour' not in text
