"""``tools/analysis/sweep_fusion_alpha.py`` scores each text weight exactly
as ``tools/test.py`` predicts with it."""
import json
import re

import pytest
from _reliability import micro_config
from conftest import run_tool
from random_checkpoint import save_random_checkpoint

SWEEP_TOOL = 'tools/analysis/sweep_fusion_alpha.py'
TEST_TOOL = 'tools/test.py'


@pytest.fixture(scope='module')
def setup(synthetic_root, tmp_path_factory):
    root = tmp_path_factory.mktemp('sweep')
    cfg = micro_config(synthetic_root, str(root / 'work'))
    checkpoint = str(root / 'model.pth')
    save_random_checkpoint(cfg, checkpoint)
    config = str(root / 'config.py')
    cfg.dump(config)
    return config, checkpoint, root


def _test_accuracy(config, checkpoint, cwd, *extra):
    proc = run_tool(TEST_TOOL, config, checkpoint, *extra, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    found = re.findall(r'Few-shot accuracy: ([\d.]+) \+/-',
                       proc.stdout + proc.stderr)
    assert len(found) == 1
    return float(found[0])


def test_each_weight_matches_tools_test(setup):
    config, checkpoint, root = setup
    out = str(root / 'alpha.json')
    proc = run_tool(SWEEP_TOOL, config, checkpoint, '--split', 'test',
                    '--alphas', '0', '0.5', '1', '--out', out,
                    cwd=str(root))
    assert proc.returncode == 0, proc.stderr
    result = json.load(open(out))
    acc = {r['alpha']: r['acc'] for r in result['rows']}
    assert result['configured'] == 0.5
    assert result['best'] in acc and acc[result['best']] == max(acc.values())
    for alpha, extra in ((0.5, ()), (1.0, ('--text-only', )),
                         (0.0, ('--cfg-options', 'model.head.alpha=0.5',
                                'model.head.predict_mode=match'))):
        assert acc[alpha] == pytest.approx(
            _test_accuracy(config, checkpoint, str(root), *extra), abs=0.01)


def test_bad_weight_is_one_error_line(setup):
    config, checkpoint, root = setup
    proc = run_tool(SWEEP_TOOL, config, checkpoint, '--alphas', '1.5',
                    cwd=str(root))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        'error: --alphas must lie in [0, 1], got [1.5]')


def test_missing_split_is_one_error_line(setup):
    config, checkpoint, root = setup  # the micro config has no val
    proc = run_tool(SWEEP_TOOL, config, checkpoint, cwd=str(root))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: {config} has no val_dataloader; choose another --split')
