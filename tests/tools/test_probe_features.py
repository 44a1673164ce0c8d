"""tools/analysis/probe_features.py and its probe maths
(tools/analysis/linear_probe.py)."""
import json
import os.path as osp

import torch
from conftest import load_tool, run_tool, small_config
from random_checkpoint import save_random_checkpoint

TOOL = osp.join('tools', 'analysis', 'probe_features.py')
probe_maths = load_tool(osp.join('tools', 'analysis', 'linear_probe.py'),
                        'linear_probe')


def _order_only(num_videos: int = 40, frames: int = 8, dim: int = 32,
                seed: int = 0):
    """Label 0: a template sequence of frame vectors, label 1: the same
    frames reversed; plus a per-video offset and per-frame noise. The
    time mean does not depend on the label."""
    g = torch.Generator().manual_seed(seed)
    template = torch.randn(frames, dim, generator=g)
    feats, labels = [], []
    for label in (0, 1):
        seq = template if label == 0 else template.flip(0)
        for _ in range(num_videos):
            feats.append(seq + torch.randn(1, dim, generator=g) +
                         0.5 * torch.randn(frames, dim, generator=g))
            labels.append(label)
    return torch.stack(feats), torch.tensor(labels)


def _mean_coded(num_classes: int = 4, per_class: int = 15, frames: int = 8,
                dim: int = 32, seed: int = 0):
    """Each class adds its own vector to every frame; frames are noise in
    a random order."""
    g = torch.Generator().manual_seed(seed)
    centres = 3 * torch.randn(num_classes, dim, generator=g)
    feats = centres.repeat_interleave(per_class, 0)[:, None] + torch.randn(
        num_classes * per_class, frames, dim, generator=g)
    return feats, torch.arange(num_classes).repeat_interleave(per_class)


def test_order_only_features_need_the_flattened_input():
    feats, labels = _order_only()
    flat = probe_maths.probe(feats.flatten(1), labels, 5, 0)
    mean = probe_maths.probe(feats.mean(1), labels, 5, 0)
    assert flat['accuracy'] >= 95
    assert 25 <= mean['accuracy'] <= 75
    assert flat['chance'] == mean['chance'] == 50
    assert flat['n'] == 80 and flat['num_classes'] == 2
    low, high = flat['ci95']
    assert low < flat['accuracy'] <= high <= 100
    assert len(flat['fold_accuracies']) == 5
    # the pairwise probe on one pair is the binary probe
    pair = probe_maths.pairwise_probe(feats.flatten(1), labels + 7, [(7, 8)],
                                      5, 0)
    assert pair['accuracy'] == flat['accuracy']
    assert pair['per_pair'] == [dict(pair=[7, 8], accuracy=flat['accuracy'],
                                     n=80)]


def test_mean_coded_classes_are_read_from_both_inputs():
    feats, labels = _mean_coded()
    for x in (feats.mean(1), feats.flatten(1)):
        result = probe_maths.probe(x, labels, 5, 0)
        assert result['accuracy'] >= 90
        assert result['chance'] == 25 and result['num_classes'] == 4


def test_pairs_are_pooled_and_other_labels_ignored():
    order, labels = _order_only(num_videos=10)
    noise = torch.randn(20, *order.shape[1:])
    feats = torch.cat([order, order, noise])  # pairs (0, 1), (2, 3); 9
    labels = torch.cat([labels, labels + 2, torch.full((20, ), 9)])
    result = probe_maths.pairwise_probe(feats.flatten(1), labels,
                                        [(0, 1), (2, 3)], 5, 0)
    assert result['n'] == 40
    assert [p['pair'] for p in result['per_pair']] == [[0, 1], [2, 3]]
    assert result['accuracy'] == sum(p['accuracy']
                                     for p in result['per_pair']) / 2


def test_folds_are_stratified_and_seeded():
    labels = torch.arange(3).repeat_interleave(10)
    folds = probe_maths.stratified_folds(labels, 5, seed=0)
    for label in range(3):
        counts = torch.bincount(folds[labels == label], minlength=5)
        assert counts.tolist() == [2] * 5
    assert torch.equal(folds, probe_maths.stratified_folds(labels, 5, 0))
    assert not torch.equal(folds, probe_maths.stratified_folds(labels, 5, 1))


def test_probes_are_deterministic_with_the_seed():
    """Weak signal: which videos are right depends on the folds, so on
    the seed, and on nothing else."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat_interleave(12)
    x = torch.randn(36, 20, generator=g) + 0.7 * torch.nn.functional.one_hot(
        labels, 20)
    first = probe_maths.cross_validated_correct(x, labels, 4, seed=3)
    again = probe_maths.cross_validated_correct(x, labels, 4, seed=3)
    assert torch.equal(first, again)
    assert probe_maths.probe(x, labels, 4, 3) == probe_maths.probe(
        x, labels, 4, 3)
    others = [probe_maths.cross_validated_correct(x, labels, 4, seed=s)
              for s in range(4, 8)]
    assert any(not torch.equal(first, o) for o in others)
    assert 0 < first.sum() < 36


def test_wilson_interval():
    assert probe_maths.wilson_interval(10, 10)[1] == 100
    assert probe_maths.wilson_interval(0, 10)[0] == 0
    low, high = probe_maths.wilson_interval(50, 100)
    assert abs(low - 40.38) < 0.01 and abs(high - 59.62) < 0.01


def test_probe_features_end_to_end(synthetic_root, tmp_path):
    """Random CLIP, random checkpoint, the test split of the tiny data:
    the table, the JSON and the direction pairs of meta.json."""
    cfg = small_config(synthetic_root)
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    ckpt = str(tmp_path / 'model.pth')
    save_random_checkpoint(cfg, ckpt)
    out = str(tmp_path / 'probe.json')
    proc = run_tool(TOOL, config, ckpt, '--folds', '3', '--steps', '30',
                    '--out', out)
    assert proc.returncode == 0, proc.stderr
    result = json.load(open(out))
    assert result['checkpoint'] == ckpt and result['split'] == 'test'
    assert '--folds 3' in result['command']
    assert result['feature_shape'] == [8, 128]
    with open(osp.join(synthetic_root, 'test.txt')) as f:
        lines = f.read().split('\n')
    assert result['num_videos'] == len([x for x in lines if x.strip()])
    assert result['pairs'] and not result['notes']
    assert [(r['probe'], r['input']) for r in result['results']] == [
        ('class', 'time-mean'), ('class', 'flattened'),
        ('direction', 'time-mean'), ('direction', 'flattened')]
    for row in result['results']:
        assert 0 <= row['accuracy'] <= 100
        assert 0 <= row['ci95'][0] <= row['accuracy'] <= row['ci95'][1]
        assert len(row['fold_accuracies']) == 3
        line = next(x for x in proc.stdout.splitlines()
                    if x.startswith(f'{row["probe"]:<10} {row["input"]}'))
        assert f'{row["accuracy"]:5.1f}' in line
        assert line.endswith(f'{row["n"]:>5}')
    assert result['results'][0]['chance'] == 100 / result['num_classes']
    assert result['results'][2]['n'] == 4 * 2 * len(result['pairs'])


def test_bad_split_is_one_line(synthetic_root, tmp_path):
    proc = run_tool(TOOL, 'config.py', '--split', 'dev')
    assert proc.returncode == 2
    assert ("argument --split: invalid choice: 'dev' (choose from 'test', "
            "'val', 'train')") in proc.stderr
    # a test list in a folder without val.txt
    cfg = small_config(synthetic_root)
    test_file = str(tmp_path / 'test.txt')
    with open(osp.join(synthetic_root, 'test.txt')) as f, \
            open(test_file, 'w') as g:
        g.write(f.read())
    cfg.test_dataloader.dataset.ann_file = test_file
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    proc = run_tool(TOOL, config, '--split', 'val', '--out',
                    str(tmp_path / 'p.json'))
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: --split val: no annotation file {tmp_path}/val.txt '
        '(splits: test, val, train; val and train are read next to the '
        "test dataset's ann_file).")


def test_checkpoint_of_another_model_is_one_line(synthetic_root, tmp_path,
                                                 capsys):
    """The project's mismatched-checkpoint error, before any video is
    encoded."""
    from mafsar_mm.utils.errors import run_main
    tool = load_tool(TOOL, 'probe_features')
    cfg = small_config(synthetic_root)
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    ckpt = str(tmp_path / 'other.pth')
    torch.save(dict(meta=dict(), state_dict=dict(w=torch.zeros(2))), ckpt)
    out = str(tmp_path / 'p.json')
    argv = [config, ckpt, '--out', out]
    capsys.readouterr()
    assert run_main(lambda: tool.main(argv), argv) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f'error: Checkpoint {ckpt} does not fit the model')
    assert not osp.exists(out)


def test_pairs_of_meta_json(tmp_path):
    tool = load_tool(TOOL, 'probe_features')
    names = ['up', 'down', 'left', 'right']
    root = str(tmp_path)
    assert tool.read_pairs(root, [0, 1], names) == (
        [], f'no {root}/meta.json')
    meta = dict(pairs=[[0, 1], [2, 3]],
                classes=[dict(label=i, name=n) for i, n in enumerate(names)])
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(meta, f)
    assert tool.read_pairs(root, [0, 1, 2], names) == ([(0, 1)], None)
    pairs, why = tool.read_pairs(root, [1, 2], names)
    assert pairs == [] and 'no pairs in' in why
    try:
        tool.read_pairs(root, [0, 1], ['up', 'sideways', 'left', 'right'])
    except ValueError as err:
        assert "names label 1 'down'" in str(err)
    else:
        raise AssertionError('a meta.json of another dataset was read')
