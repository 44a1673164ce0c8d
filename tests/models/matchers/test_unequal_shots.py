"""Matchers accept classes with different numbers of shots (the
inferencer's support sets): repeating every shot of a class, by different
factors per class, must not change the logits."""
import pytest
import torch
from mmaction.registry import MODELS

import mafsar_mm.models.matchers  # noqa: F401  (registers the matchers)

D, T = 8, 4
CFGS = [
    dict(type='OTAMMatcher'),
    dict(type='BiMHMMatcher'),
    dict(type='ProtoMatcher'),
    dict(type='TRXMatcher', in_channels=D, seq_len=T, trans_linear_out_dim=16),
]


@pytest.mark.parametrize('cfg', CFGS, ids=lambda c: c['type'])
def test_repeated_shots_give_the_same_logits(cfg):
    torch.manual_seed(0)
    matcher = MODELS.build(cfg).eval()
    gen = torch.Generator().manual_seed(0)
    support = torch.randn(3, T, D, generator=gen)  # one shot per class
    labels = torch.arange(3)
    query = torch.randn(4, T, D, generator=gen)
    repeats = torch.tensor([2, 1, 3])  # unequal shots: 2, 1 and 3
    with torch.no_grad():
        single = matcher(support, labels, query)
        uneven = matcher(
            support.repeat_interleave(repeats, 0),
            labels.repeat_interleave(repeats), query)
    assert uneven.shape == (4, 3)
    torch.testing.assert_close(uneven, single, rtol=1e-5, atol=1e-5)
