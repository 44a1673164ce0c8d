"""``mim train`` / ``mim test`` after the README's editable install, with
no PYTHONPATH: mim finds ``mafsar_mm/.mim/tools/*.py`` through the
project's metadata (setup.py, ``EditableWheel``)."""
import glob
import os
import os.path as osp
import subprocess
import sys
import sysconfig
import venv

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests', 'engine'))
from _reliability import micro_config  # noqa: E402

pytestmark = pytest.mark.slow


def _run(args, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)


@pytest.fixture(scope='module')
def fresh_python(tmp_path_factory):
    """A new virtual environment with ``pip install -e REPO`` (the README's
    install; the dependencies come from this interpreter's
    site-packages, so nothing is downloaded)."""
    root = tmp_path_factory.mktemp('mim_venv')
    venv.create(str(root), with_pip=False)
    python = str(root / 'bin' / 'python')
    purelib = _run([python, '-c', 'import sysconfig; print(sysconfig.'
                    "get_paths()['purelib'])"], cwd=str(root)).stdout.strip()
    shared = {sysconfig.get_paths()[k] for k in ('purelib', 'platlib')}
    with open(osp.join(purelib, '_shared_site_packages.pth'), 'w') as f:
        f.write('\n'.join(sorted(shared)) + '\n')
    install = _run([
        python, '-m', 'pip', 'install', '--no-deps', '--no-build-isolation',
        '--no-index', '-e', REPO
    ], cwd=str(root))
    assert install.returncode == 0, install.stderr[-3000:]
    return python


def test_mim_train_and_test_on_two_processes(fresh_python, synthetic_root,
                                             tmp_path):
    cfg = micro_config(synthetic_root, str(tmp_path / 'unused'), max_iters=2)
    config = str(tmp_path / 'micro.py')
    cfg.dump(config)
    work = tmp_path / 'work'
    train = _run([
        fresh_python, '-m', 'mim', 'train', 'mafsar_mm', config,
        '--launcher', 'pytorch', '--gpus', '2', '--work-dir',
        str(work)
    ], cwd=str(tmp_path))
    assert train.returncode == 0, (train.stdout + train.stderr)[-3000:]
    script = osp.join(REPO, 'mafsar_mm', '.mim', 'tools', 'train.py')
    assert '--nproc_per_node=2 --master_port=' in train.stdout
    assert script in train.stdout
    checkpoint = torch.load(str(work / 'iter_2.pth'), weights_only=True)
    assert checkpoint['meta']['iter'] == 2
    assert (work / 'last_checkpoint').read_text().strip() == str(
        work / 'iter_2.pth')
    test = _run([
        fresh_python, '-m', 'mim', 'test', 'mafsar_mm', config,
        '--checkpoint',
        str(work / 'iter_2.pth'), '--launcher', 'pytorch', '--gpus', '2',
        '--work-dir',
        str(tmp_path / 'test'), '--dump-metrics',
        str(tmp_path / 'metrics.json')
    ], cwd=str(tmp_path))
    assert test.returncode == 0, (test.stdout + test.stderr)[-3000:]
    metrics = (tmp_path / 'metrics.json').read_text()
    assert '"fewshot/episodes": 6' in metrics


def test_mim_search_lists_the_model_zoo(fresh_python, tmp_path):
    """``mim search mafsar_mm`` reads ``mafsar_mm/.mim/model-index.yml``
    (linked by the editable install) and its metafiles."""
    import json
    out = tmp_path / 'zoo.json'
    search = _run([
        fresh_python, '-m', 'mim', 'search', 'mafsar_mm', '--json',
        str(out)
    ], cwd=str(tmp_path))
    assert search.returncode == 0, (search.stdout + search.stderr)[-3000:]
    zoo = json.loads(out.read_text())  # field -> config id -> value
    configs = zoo['config']
    assert configs['mafsar_ssv2_5w1s'] == 'configs/mafsar_ssv2_5w1s.py'
    assert len(configs) == len([
        p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                             recursive=True) if '_base_' not in p
    ])
    # the measured mean the metafile holds (model_zoo.py writes it from
    # docs/synthetic_comparison.json)
    import yaml
    with open(osp.join(REPO, 'configs', 'mafsar', 'metafile.yml')) as f:
        models = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    name = 'mafsar_vit-tiny_5w1s_synthetic-temporal'
    (result, ) = models[name]['Results']
    assert result['Dataset'] == 'Synthetic-temporal'
    assert zoo['synthetic-temporal/accuracy'][name] == result['Metrics'][
        'Accuracy'] > 20.0
    assert zoo['setting']['trx_vit-b32_5w5s_ssv2-full'] == '5-way 5-shot'


def test_wheel_ships_split_lists_configs_and_tools(tmp_path):
    import shutil
    import zipfile
    src = tmp_path / 'src'
    skip = shutil.ignore_patterns('__pycache__', '.mim', '*.egg-info')
    for name in ('mafsar_mm', 'configs', 'tools', 'requirements',
                 osp.join('data', 'splits')):
        shutil.copytree(osp.join(REPO, name), src / name, ignore=skip)
    for name in ('setup.py', 'setup.cfg', 'README.md', 'model-index.yml'):
        shutil.copy(osp.join(REPO, name), src / name)
    build = _run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--no-index', '-w',
        str(tmp_path / 'dist'),
        str(src)
    ], cwd=str(tmp_path))
    assert build.returncode == 0, build.stderr[-3000:]
    wheel, = (tmp_path / 'dist').iterdir()
    names = set(zipfile.ZipFile(wheel).namelist())
    for benchmark in os.listdir(osp.join(REPO, 'data', 'splits')):
        for split in ('train', 'val', 'test'):
            assert (f'mafsar_mm/.mim/data/splits/{benchmark}/{split}.txt'
                    in names)
    assert 'mafsar_mm/.mim/tools/train.py' in names
    assert 'mafsar_mm/.mim/configs/_base_/default_runtime.py' in names
    assert 'mafsar_mm/.mim/model-index.yml' in names
    assert 'mafsar_mm/.mim/configs/mafsar/metafile.yml' in names
