"""Properties shared by all matchers: shapes, permutation invariance,
gradients, determinism, input checks and registry building."""
import pytest
import torch
from mmaction.registry import MODELS

import mafsar_mm.models.matchers  # noqa: F401  (registers the matchers)
from mafsar_mm.models.matchers import average_over_shots

D, T = 8, 4
MATCHER_CFGS = [
    dict(type='OTAMMatcher'),
    dict(type='OTAMMatcher', bidirectional=False),
    dict(type='BiMHMMatcher'),
    dict(type='BiMHMMatcher', metric='euclidean'),
    dict(type='ProtoMatcher'),
    dict(type='ProtoMatcher', metric='euclidean'),
    dict(
        type='TRXMatcher',
        in_channels=D,
        seq_len=T,
        trans_linear_out_dim=16,
        dropout=0.1),
]
IDS = ['otam', 'otam-1dir', 'bimhm', 'bimhm-euc', 'proto', 'proto-euc', 'trx']


def _build(cfg):
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def _episode(n=5, k=1, q=7, seed=0):
    gen = torch.Generator().manual_seed(seed)
    support = torch.randn(n * k, T, D, generator=gen)
    labels = torch.arange(n).repeat(k)  # interleaved classes
    query = torch.randn(q, T, D, generator=gen)
    return support, labels, query


@pytest.mark.parametrize('cfg', MATCHER_CFGS, ids=IDS)
@pytest.mark.parametrize('k', [1, 3])
def test_output_shape(cfg, k):
    logits = _build(cfg)(*_episode(n=5, k=k, q=7))
    assert logits.shape == (7, 5)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize('cfg', MATCHER_CFGS, ids=IDS)
def test_support_permutation_invariance(cfg):
    matcher = _build(cfg)
    support, labels, query = _episode(n=5, k=3)
    logits = matcher(support, labels, query)
    gen = torch.Generator().manual_seed(1)
    perm = torch.randperm(len(labels), generator=gen)
    torch.testing.assert_close(
        matcher(support[perm], labels[perm], query), logits)
    # Renaming the classes permutes the logit columns accordingly.
    rename = torch.tensor([3, 0, 4, 1, 2])
    renamed = matcher(support, rename[labels], query)
    torch.testing.assert_close(renamed[:, rename], logits)


@pytest.mark.parametrize('cfg', MATCHER_CFGS, ids=IDS)
def test_gradients_reach_inputs(cfg):
    matcher = _build(cfg)
    support, labels, query = _episode(n=3, k=2, q=4)
    support.requires_grad_(True)
    query.requires_grad_(True)
    logits = matcher(support, labels, query)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2,
                                                                   0]))
    loss.backward()
    assert support.grad.abs().sum() > 0
    assert query.grad.abs().sum() > 0
    assert torch.isfinite(support.grad).all()
    assert torch.isfinite(query.grad).all()


@pytest.mark.parametrize('cfg', MATCHER_CFGS, ids=IDS)
def test_determinism(cfg):
    matcher = _build(cfg)
    episode = _episode(n=5, k=2)
    assert torch.equal(matcher(*episode), matcher(*episode))


@pytest.mark.parametrize('cfg', MATCHER_CFGS, ids=IDS)
def test_shape_mismatch_errors(cfg):
    matcher = _build(cfg)
    labels = torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r'\(2, 4, 8\).*\(3, 5, 8\)'):
        matcher(torch.randn(2, T, D), labels, torch.randn(3, T + 1, D))
    with pytest.raises(ValueError, match=r'\(2, 4, 8\).*\(3, 4, 6\)'):
        matcher(torch.randn(2, T, D), labels, torch.randn(3, T, 6))
    with pytest.raises(ValueError, match=r'\(2, 32\)'):
        matcher(torch.randn(2, T * D), labels, torch.randn(3, T, D))
    with pytest.raises(ValueError, match='support_labels'):
        matcher(torch.randn(3, T, D), labels, torch.randn(3, T, D))
    with pytest.raises(ValueError, match=r'classes \[1\]'):
        matcher(
            torch.randn(2, T, D), torch.tensor([0, 2]), torch.randn(3, T, D))


def test_average_over_shots_hand_computed():
    scores = torch.tensor([[1., 2., 3., 6.]])
    labels = torch.tensor([1, 0, 1, 0])
    # Class 0: (2 + 6) / 2 = 4; class 1: (1 + 3) / 2 = 2.
    torch.testing.assert_close(
        average_over_shots(scores, labels, 2), torch.tensor([[4., 2.]]))
