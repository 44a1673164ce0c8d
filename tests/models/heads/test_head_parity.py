"""The head built from registered parts gives main's numbers bit for bit.

``head_parity_main.pt`` holds, for every distinct ``model.head`` of the
configs on main at 8d9a971 (before the head was split into parts), the
losses, raw outputs and predictions on seeded features and the head's
state-dict names and shapes (``head_parity.py`` wrote it). Each config's
head today must give exactly those tensors and load main's checkpoints
(the same parameter names and shapes).

Since then val chose the prediction's text weight (``predict_alpha``) of
some configs (``tests/configs/test_val_choices.py`` pins it to the
table). That key is not part of main's head: the parity runs without it,
and :func:`test_val_chosen_text_weight_only_changes_the_prediction`
checks what it does.
"""
import os.path as osp

import pytest
import torch
from head_parity import head_cfg, leaf_configs, run_head, setting

RECORDED = torch.load(
    osp.join(osp.dirname(__file__), 'head_parity_main.pt'), weights_only=True)


def test_every_config_is_recorded():
    # a config added since 8d9a971 needs its own parity record
    assert sorted(RECORDED['configs']) == leaf_configs()
    assert len(RECORDED['records']) == 42


def assert_equal(new, old, where):
    if isinstance(old, dict):
        assert sorted(new) == sorted(old), where
        for key in old:
            assert_equal(new[key], old[key], f'{where}.{key}')
    elif isinstance(old, torch.Tensor):
        assert torch.equal(
            new,
            old), (f'{where}: max |diff| {(new - old).abs().max().item()}')
    else:
        assert new == old, where


def main_head_cfg(path: str) -> dict:
    """The config's head without the keys val chose since 8d9a971."""
    cfg = head_cfg(path).to_dict()
    if cfg['type'] == 'FewShotHead':  # CLIPFSARHead had it on main
        cfg.pop('predict_alpha', None)
    return cfg


@pytest.mark.parametrize('path', sorted(RECORDED['records']))
def test_head_matches_main_bit_for_bit(path):
    record = run_head(main_head_cfg(path), **setting(path))
    expected = RECORDED['records'][path]
    assert record['state'] == expected['state']  # old checkpoints load
    for key in ('losses', 'outputs', 'predict_fused', 'predict_match',
                'predict_text'):
        assert_equal(record[key], expected[key], key)


def test_configs_with_one_head_on_main_still_share_it():
    """The records cover every config: configs whose heads were equal on
    main are equal now (so each gives its representative's numbers)."""
    groups = {}
    for path, key in RECORDED['configs'].items():
        groups.setdefault(key, []).append(path)
    for key, paths in groups.items():
        cfgs = {repr((main_head_cfg(p), setting(p))) for p in paths}
        assert len(cfgs) == 1, paths


VAL_CHOSEN_ALPHA = sorted(
    p for p in RECORDED['configs']
    if head_cfg(p).type == 'FewShotHead' and 'predict_alpha' in head_cfg(p))


def test_val_chosen_text_weight_is_where_the_table_put_it():
    assert VAL_CHOSEN_ALPHA == [
        'mafsar/mafsar_vit-tiny_5w1s_synthetic-temporal.py',
        'mafsar/mafsar_vit-tiny_5w1s_synthetic-temporal_bimhm.py',
        'mafsar/mafsar_vit-tiny_5w1s_synthetic-temporal_proto.py',
        'mafsar/mafsar_vit-tiny_5w1s_synthetic-temporal_trx.py',
    ]


@pytest.mark.parametrize('path', VAL_CHOSEN_ALPHA)
def test_val_chosen_text_weight_only_changes_the_prediction(path):
    """With the chosen weight the losses, raw outputs and the match and
    text predictions are main's; the fused prediction is the fusion at
    that weight (0: the match prediction)."""
    cfg = head_cfg(path)
    record = run_head(cfg, **setting(path))
    expected = RECORDED['records'][RECORDED['configs'][path]]
    for key in ('losses', 'outputs', 'predict_match', 'predict_text'):
        assert_equal(record[key], expected[key], key)
    assert cfg.predict_alpha == 0.0
    assert not torch.equal(record['predict_fused'],
                           expected['predict_fused'])
    assert_equal(record['predict_fused'], expected['predict_match'],
                 'predict_fused')
