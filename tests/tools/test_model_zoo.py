"""The model zoo (``model-index.yml``, ``configs/**/metafile.yml``, the
family READMEs): fresh, parsed as ``mim search`` parses it, every config
listed once, and numbers only where this repository measured them."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from conftest import load_tool
from mim.commands.search import convert2df
from modelindex.load_model_index import load

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


zoo = load_tool('tools/analysis/model_zoo.py')


@pytest.fixture(scope='module')
def index():
    """The zoo as ``mim search`` reads it (``modelindex.load`` and mim's
    ``convert2df``)."""
    metadata = load(osp.join(REPO, 'model-index.yml'))
    return metadata, convert2df(metadata)


def test_zoo_files_are_up_to_date(capsys):
    assert zoo.main(['--check']) == 0, capsys.readouterr().err


def test_check_names_a_stale_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(zoo, 'ROOT', str(tmp_path))
    monkeypatch.setattr(zoo, 'expected_files',
                        lambda: {'model-index.yml': 'Import: []\n'})
    assert zoo.main(['--check']) == 1
    err = capsys.readouterr().err
    assert 'stale model-zoo files' in err and 'model-index.yml' in err
    assert not (tmp_path / 'model-index.yml').exists()  # --check writes none


def test_every_config_is_listed_once(index):
    metadata, frame = index
    configs = sorted(
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                           recursive=True)
        if '_base_' not in p.split(os.sep))
    listed = sorted(model.config for model in metadata.models)
    assert listed == configs
    assert sorted(frame.index) == sorted(
        osp.splitext(osp.basename(c))[0] for c in configs)
    for model in metadata.models:
        assert osp.isfile(osp.join(REPO, model.config))
    for collection in metadata.collections:
        assert osp.isfile(osp.join(REPO, collection.readme))


def test_metadata_follows_the_config(index):
    metadata, frame = index
    by_name = {m.name: m for m in metadata.models}
    model = by_name['mafsar_vit-b32_5w5s_ssv2-small_trx']
    assert model.metadata.data['Setting'] == '5-way 5-shot'
    assert model.metadata.data['Matcher'] == 'TRXMatcher'
    assert model.metadata.data['Training Data'] == 'SSv2-Small'
    row = frame.loc['mafsar_ssv2_5w1s']
    assert (row['setting'], row['training_data']) == ('5-way 1-shot',
                                                      'ssv2-full')
    assert row['architecture'] == ('clip vit-b-16, frozen clip + fgma '
                                   'adapters')


def test_results_only_where_measured(index):
    """Numbers only for synthetic configs, and each one is the mean of the
    tested runs of docs/synthetic_comparison.json for that very config."""
    metadata, frame = index
    with open(osp.join(REPO, zoo.COMPARISON_JSON)) as f:
        results = json.load(f)
    tested = [best for _, best in zoo.chosen_rows(results)
              if not zoo.model_options(best)]
    measured = {}
    for r in tested:
        measured.setdefault((r['config'], r['flavour'], r['shots'],
                             r['iters']), []).append(r['acc'])
    assert measured
    seen = set()
    for model in metadata.models:
        training_data = model.metadata.data['Training Data']
        for result in model.results or []:
            assert training_data.startswith('Synthetic'), model.name
            metrics = result.metrics
            matches = [k for k, accs in measured.items()
                       if k[0] == model.config
                       and round(float(np.mean(accs)), 1)
                       == metrics['Accuracy']
                       and len(accs) == metrics['Runs']]
            assert len(matches) == 1, (model.name, metrics)
            accs = measured[matches[0]]
            if len(accs) > 1:
                assert metrics['Std'] == round(float(np.std(accs, ddof=1)),
                                               1)
            seen.add(matches[0])
    assert seen == set(measured)


def test_rows_average_over_splits_and_seeds(monkeypatch, tmp_path):
    """A row is the mean over every split and seed of its method, and the
    runs' split, seed and learning-rate options are not model options."""
    def run(split, seed, lr, acc, val):
        options = [f'optim_wrapper.optimizer.lr={lr}'] if lr != 1e-3 else []
        if split:
            options += [f'{k}_dataloader.dataset.ann_file=split{split}/'
                        f'{k}.txt' for k in ('train', 'val', 'test')]
        if seed:
            options += [f'randomness.seed={seed}',
                        f'train_dataloader.dataset.seed={seed}']
        return dict(
            flavour='temporal', key='otam', label='OTAM (full FT)',
            shots=1, lr=lr, split=split, seed=seed, config='c.py',
            options=options, iters=300, episodes=2000,
            val=dict(acc=val, ci95=1.0, alpha=None), acc=acc, ci95=1.0,
            breakdown=dict(order=dict(mean=60.0)), train_cmd=['t'],
            test_cmd=['s'], text_only=None, train_minutes=1.0)

    results = [
        run(0, 0, 1e-3, 40.0, 30.0), run(0, 0, 1e-4, 50.0, 35.0),
        run(1, 0, 1e-3, 44.0, 36.0), run(1, 0, 1e-4, 99.0, 20.0),
        run(1, 1, 1e-3, 46.0, 37.0)
    ]
    (tmp_path / 'docs').mkdir()
    with open(tmp_path / zoo.COMPARISON_JSON, 'w') as f:
        json.dump(results, f)
    monkeypatch.setattr(zoo, 'ROOT', str(tmp_path))
    [row] = zoo.comparison_rows()
    # the val choice per split: 50 (split 0, 1e-4), 44 and 46 (split 1)
    assert [r['acc'] for r in row['members']] == [50.0, 44.0, 46.0]
    assert row['mean'] == pytest.approx(140 / 3)
    assert row['options'] == [] and row['runs'] == 3
    assert zoo._metrics(row) == dict(
        Accuracy=46.7, Std=round(float(np.std([50, 44, 46], ddof=1)), 1),
        Runs=3)
    results.append(
        dict(run(2, 0, 1e-3, 41.0, 30.0),
             options=['model.head.neck.num_layers=2']))
    with open(tmp_path / zoo.COMPARISON_JSON, 'w') as f:
        json.dump(results, f)
    with pytest.raises(ValueError, match='differ in more than split'):
        zoo.comparison_rows()


def test_readme_slots_of_the_real_benchmarks_are_empty():
    for folder in zoo.FAMILIES:
        with open(osp.join(REPO, folder, 'README.md')) as f:
            text = f.read()
        real = text[text.index('## Results on the real benchmarks'):
                    text.index('## Results on the synthetic data')]
        rows = [line for line in real.splitlines()
                if line.startswith('| `')]
        assert rows, folder
        for line in rows:
            cells = [c.strip() for c in line.strip('|').split('|')]
            # accuracy, 95% CI, log, checkpoint: empty
            assert cells[6:8] == ['', ''] and cells[9:] == ['', ''], line


def test_slurm_scripts_call_the_tools(tmp_path):
    """With a stand-in ``srun`` that prints its arguments."""
    srun = tmp_path / 'srun'
    srun.write_text('#!/bin/sh\necho "srun $*"\n')
    srun.chmod(0o755)
    env = dict(os.environ, PATH=f'{tmp_path}{os.pathsep}{os.environ["PATH"]}',
               GPUS='4', GPUS_PER_NODE='2')
    train = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'slurm_train.sh'), 'part', 'job',
         'cfg.py', '--work-dir', 'w'], env=env, capture_output=True,
        text=True)
    assert train.returncode == 0, train.stderr
    line = train.stdout.strip()
    assert line.startswith('srun -p part --job-name=job --gres=gpu:2 '
                           '--ntasks=4 --ntasks-per-node=2')
    assert line.endswith(f'python -u {REPO}/tools/train.py cfg.py '
                         '--launcher=slurm --work-dir w')
    test = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'slurm_test.sh'), 'part', 'job',
         'cfg.py', 'ckpt.pth'], env=env, capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    assert test.stdout.strip().endswith(
        f'python -u {REPO}/tools/test.py cfg.py ckpt.pth --launcher=slurm')
    usage = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'slurm_test.sh'), 'part'],
        env=env, capture_output=True, text=True)
    assert usage.returncode == 1 and usage.stderr.startswith('usage:')


def test_print_config_applies_options():
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'analysis',
                                  'print_config.py'),
         osp.join(REPO, 'configs', 'mafsar_ssv2_5w1s.py'), '--cfg-options',
         'model.head.matcher.type=BiMHMMatcher'],
        capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=REPO))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('Config:\n')
    assert "matcher=dict(type='BiMHMMatcher')" in out.stdout
    assert "model_name='ViT-B-16'" in out.stdout
