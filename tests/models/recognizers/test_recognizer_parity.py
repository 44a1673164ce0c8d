"""The recognizer on the composed head gives main's numbers bit for bit,
and encodes an episode's class texts once.

``recognizer_parity_main.pt`` was recorded on main at 8d9a971 by
``recognizer_parity.py`` (one tiny config per method and shot, random
CLIP weights, one seeded episode).
"""
import os.path as osp

import pytest
import torch
from recognizer_parity import CONFIGS, build, episode, run

RECORDED = torch.load(
    osp.join(osp.dirname(__file__), 'recognizer_parity_main.pt'),
    weights_only=True)


def assert_equal(new, old, where):
    if isinstance(old, dict):
        assert sorted(new) == sorted(old), where
        for key in old:
            assert_equal(new[key], old[key], f'{where}.{key}')
    else:
        assert torch.equal(
            new,
            old), (f'{where}: max |diff| {(new - old).abs().max().item()}')


@pytest.mark.parametrize('path', CONFIGS)
def test_recognizer_matches_main_bit_for_bit(path):
    assert_equal(run(path), RECORDED[path], path)


@pytest.mark.parametrize('path', [
    'mafsar/mafsar_vit-tiny_5w1s_synthetic.py',
    'baselines/clipfsar/clipfsar_vit-tiny_5w1s_synthetic.py'
])
def test_class_texts_are_encoded_once_per_episode(path):
    model = build(path)
    inputs, sample = episode(shots=1)
    calls = []
    encode = model.text_encoder.forward

    def counting(names):
        calls.append(list(names))
        return encode(names)

    model.text_encoder.forward = counting
    model.eval()
    with torch.no_grad():
        model(inputs, [sample.clone()], mode='predict')
    assert calls == [list(sample.class_names)]
    calls.clear()
    model.train()
    model(inputs, [sample.clone()], mode='loss')
    expected = [list(sample.class_names)]
    if getattr(model.head, 'text_classes', 'episode') == 'split':
        expected.append(sample.metainfo['split_class_names'])
    assert calls == expected
