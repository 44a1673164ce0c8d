"""The head built from registered parts gives main's numbers bit for bit.

``head_parity_main.pt`` holds, for every distinct ``model.head`` of the
configs on main at 8d9a971 (before the head was split into parts), the
losses, raw outputs and predictions on seeded features and the head's
state-dict names and shapes (``head_parity.py`` wrote it). Each config's
head today must give exactly those tensors and load main's checkpoints
(the same parameter names and shapes).
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


@pytest.mark.parametrize('path', sorted(RECORDED['records']))
def test_head_matches_main_bit_for_bit(path):
    record = run_head(head_cfg(path), **setting(path))
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
        cfgs = {repr((head_cfg(p).to_dict(), setting(p))) for p in paths}
        assert len(cfgs) == 1, paths
