"""The synthetic configs ship what val chose: for every row of
``docs/synthetic_comparison.json`` tested on a config's own data (class
split 0, seed 0, no model options), the config trains with that row's
learning rate and budget and predicts with its text weight, so that
``tools/train.py CONFIG`` then ``tools/test.py`` run the table's row."""
import json
import os.path as osp

import pytest
from conftest import load_tool
from mmengine.config import Config, DictAction

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
zoo = load_tool('tools/analysis/model_zoo.py')


def _rows() -> list:
    with open(osp.join(REPO, zoo.COMPARISON_JSON)) as f:
        results = json.load(f)
    return [
        best for _, best in zoo.chosen_rows(results)
        if best.get('split', 0) == 0 and best.get('seed', 0) == 0
        and not zoo.model_options(best)
    ]


def _get(cfg, key: str):
    value = cfg
    for part in key.split('.'):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _train_options(cmd: list) -> list:
    return cmd[cmd.index('--cfg-options') + 1:]


ROWS = _rows()


def test_the_table_pins_the_temporal_one_shot_configs():
    """A guard: the pinned set is what the table has tested, not empty."""
    pinned = {r['config'] for r in ROWS}
    assert {
        'configs/mafsar/mafsar_vit-tiny_5w1s_synthetic-temporal.py',
        'configs/baselines/trx/trx_vit-tiny_5w1s_synthetic-temporal.py',
        'configs/baselines/clipfsar/'
        'clipfsar_vit-tiny_5w1s_synthetic-temporal.py',
    } <= pinned


@pytest.mark.parametrize('row', ROWS,
                         ids=[f"{r['key']}-{r['shots']}shot" for r in ROWS])
def test_config_is_the_tested_row(row):
    cfg = Config.fromfile(osp.join(REPO, row['config']))
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(row['lr']), (
        f"{row['config']}: val chose lr {row['lr']:g}")
    assert cfg.train_cfg.max_iters == row['iters']
    # every option of the table's training command is already the config's
    for option in _train_options(row['train_cmd']):
        key, value = option.split('=', 1)
        assert _get(cfg, key) == pytest.approx(
            DictAction._parse_iterable(value)), (row['config'], option)
    alpha = row['val'].get('alpha')
    if alpha is not None:
        assert cfg.model.head.predict_alpha == alpha, (
            f"{row['config']}: val chose text weight {alpha:g}")


def test_a_config_that_drifts_from_the_table_fails():
    """The check above catches a config whose rate is not the table's."""
    row = next(r for r in ROWS if r['key'] == 'otam')
    cfg = Config.fromfile(osp.join(REPO, row['config']))
    cfg.merge_from_dict({'optim_wrapper.optimizer.lr': 1e-3})
    assert cfg.optim_wrapper.optimizer.lr != pytest.approx(row['lr'])
    key, value = next(o for o in _train_options(row['train_cmd'])
                      if o.startswith('param_scheduler.0.end')).split('=')
    cfg.merge_from_dict({'param_scheduler': [dict(end=50), {}]})
    assert _get(cfg, key) != DictAction._parse_iterable(value)
