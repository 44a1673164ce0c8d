"""compare_methods.py over class splits and training seeds: the options of
a run, the choice of learning rate at the first seed, and the spread on the
page (no training: ``run`` is replaced by the fake of
``test_compare_methods.py``)."""
import os.path as osp

import pytest
from conftest import load_tool

HERE = osp.dirname(osp.abspath(__file__))


base = load_tool(osp.join(HERE, 'test_compare_methods.py'),
                 '_test_compare_methods')
tool, report = base.tool, base.report


def test_run_options_pick_split_seed_and_data_root(tmp_path):
    args = base._args(tmp_path)
    assert tool.run_options(args) == ()
    assert tool.run_options(args, 2, 1) == (
        'train_dataloader.dataset.ann_file=split2/train.txt',
        'val_dataloader.dataset.ann_file=split2/val.txt',
        'test_dataloader.dataset.ann_file=split2/test.txt',
        'randomness.seed=1', 'train_dataloader.dataset.seed=1')
    args = base._args(tmp_path, '--flavour', 'temporal-checkers')
    assert tool.run_options(args)[0] == (
        'train_dataloader.dataset.data_root='
        'data/synthetic_temporal_checkers')
    with pytest.raises(SystemExit, match='the spatial flavour has one class '
                       'split'):
        tool.main(['--flavour', 'spatial', '--splits', '1', '--results',
                   str(tmp_path / 'r.json')])


def test_val_command_scores_the_split_val_classes(tmp_path):
    options = tool.run_options(base._args(tmp_path), 1, 0)
    cmd = tool.val_command(
        'configs/mafsar/mafsar_vit-tiny_5w1s_synthetic-temporal.py',
        'm.pth', '/tmp/wd', options)
    # after the run's options, so that the val split wins
    tail = cmd[-3:]
    assert tail == ['test_dataloader.dataset.ann_file=split1/val.txt',
                    'test_dataloader.dataset.data_root='
                    'data/synthetic_temporal',
                    'test_dataloader.dataset.seed=1']
    assert cmd.index(options[2]) < cmd.index(tail[0])


def test_run_row_chooses_the_rate_at_the_first_seed(tmp_path, monkeypatch):
    ran, kept = [], []
    monkeypatch.setattr(tool, 'run', base._fake_run(ran))
    args = base._args(tmp_path, '--seeds', '0', '3', '--lrs', '1e-3',
                      '1e-4')
    tool.run_row(args, 'otam', 1, 1, {}, kept.append, {})
    trains = [c for c in ran if c[1] == 'tools/train.py']
    # two rates at seed 0, then seed 3 at the chosen one only (ties go to
    # the higher rate: the fake scores both 60 %)
    assert len(trains) == 3
    assert all('train_dataloader.dataset.ann_file=split1/train.txt' in c
               for c in trains)
    assert not any('randomness.seed=3' in c for c in trains[:2])
    assert 'randomness.seed=3' in trains[2]
    assert 'optim_wrapper.optimizer.lr=0.001' in trains[2]
    assert not any('optim_wrapper.optimizer.lr=0.0001' in o for o in
                   trains[2])
    tested = {r['seed']: r for r in kept if 'acc' in r}
    assert {(s, r['lr']) for s, r in tested.items()} == {(0, 1e-3),
                                                         (3, 1e-3)}
    assert {r['split'] for r in kept} == {1}
    assert tested[3]['work_dir'].endswith(
        'otam_5w1s_10it_lr0.001_split1_seed3')


def test_page_gives_mean_and_spread_over_splits_and_seeds(tmp_path):
    partner = base._meta(tmp_path)
    rows = []
    for split, seed, acc in ((0, 0, 60.0), (0, 1, 64.0), (1, 0, 50.0),
                             (1, 1, 54.0)):
        row = base._cand(partner, acc=acc)
        row.update(split=split, seed=seed)
        rows.append(row)
    text = base._write(tmp_path, rows)
    assert ('## Temporal flavour (d/t): 10 training episodes, 20 test '
            'episodes: over class splits and seeds') in text
    # mean 57.0, sample std 6.2, per split 62 and 52
    assert ('| OTAM | 1 | 4 (2 x 2) | 57.0 | 6.2 | 50.0 - 64.0 | '
            '0: 62.0, 1: 52.0 | - | 100.0 |') in text
    assert '| OTAM | 1 | 1 / 1 | 0.001 (the first seed\'s) |' in text
    assert '| OTAM | 1 | 1 / 0 | **0.001: 55.0** |' in text


def test_page_counts_seeds_per_split_when_the_grid_is_uneven(tmp_path):
    # split 0 at two seeds, split 1 at one: 3 runs, not "2 x 2"
    partner = base._meta(tmp_path)
    rows = []
    for split, seed, acc in ((0, 0, 60.0), (0, 1, 64.0), (1, 0, 50.0)):
        row = base._cand(partner, acc=acc)
        row.update(split=split, seed=seed)
        rows.append(row)
    text = base._write(tmp_path, rows)
    assert '| OTAM | 1 | 3 (2 splits, 2/1 seeds) | 58.0 |' in text
    assert 'x 2)' not in text
    group = report.spread_rows([(None, r) for r in rows])[0]
    assert report.grid_label(group, long=True) == '2 class splits, 2/1 seeds'
