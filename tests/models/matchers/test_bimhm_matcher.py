"""Tests of BiMHMMatcher with hand-computed values."""
import math

import pytest
import torch

from mafsar_mm.models.matchers import BiMHMMatcher


def _hand_case():
    # Query frames [e1, e2], support frames [e1, e1].
    query = torch.tensor([[[1., 0.], [0., 1.]]])  # [1, 2, 2]
    support = torch.tensor([[[1., 0.], [1., 0.]]])  # [1, 2, 2]
    return support, torch.tensor([0]), query


def test_bimhm_hand_computed_cosine_sum():
    # Cosine distances d[i][j] (query i, support j): [[0, 0], [1, 1]].
    # Query->support minima: [0, 1] -> 1; support->query minima: [0, 0]
    # -> 0. Distance 1 (HyRSM sums over frames).
    logits = BiMHMMatcher()(*_hand_case())
    assert logits.shape == (1, 1)
    assert logits.item() == pytest.approx(-1.0)


def test_bimhm_hand_computed_mean_and_euclidean():
    # Mean over frames: 1 / 2 + 0 = 0.5.
    logits = BiMHMMatcher(reduction='mean')(*_hand_case())
    assert logits.item() == pytest.approx(-0.5)
    # Euclidean: d = [[0, 0], [sqrt 2, sqrt 2]] -> sqrt 2 + 0.
    logits = BiMHMMatcher(metric='euclidean')(*_hand_case())
    assert logits.item() == pytest.approx(-math.sqrt(2), abs=1e-6)


def test_bimhm_hand_computed_two_shots():
    # Class 0 has the hand-case support (distance 1) and a copy of the
    # query (distance 0): the class distance is the mean, 0.5.
    support, _, query = _hand_case()
    support = torch.cat([support, query])
    logits = BiMHMMatcher()(support, torch.tensor([0, 0]), query)
    assert logits.item() == pytest.approx(-0.5)


@pytest.mark.parametrize('metric', ['cosine', 'euclidean'])
def test_bimhm_frame_order_invariance(metric):
    gen = torch.Generator().manual_seed(0)
    support = torch.randn(4, 5, 6, generator=gen)
    query = torch.randn(3, 5, 6, generator=gen)
    labels = torch.tensor([0, 1, 0, 1])
    matcher = BiMHMMatcher(metric=metric)
    logits = matcher(support, labels, query)
    shuffled_support = support[:, torch.randperm(5, generator=gen)]
    shuffled_query = query[:, torch.randperm(5, generator=gen)]
    torch.testing.assert_close(
        matcher(shuffled_support, labels, shuffled_query), logits)


def test_bimhm_euclidean_identical_frames_finite_grad():
    support = torch.randn(2, 3, 4, requires_grad=True)
    query = support.detach().clone().requires_grad_(True)
    logits = BiMHMMatcher(metric='euclidean')(support, torch.tensor([0, 1]),
                                              query)
    logits.sum().backward()
    assert torch.isfinite(support.grad).all()
    assert torch.isfinite(query.grad).all()


def test_bimhm_unknown_options():
    with pytest.raises(ValueError, match="'cosine', 'euclidean'"):
        BiMHMMatcher(metric='manhattan')
    with pytest.raises(ValueError, match='reduction'):
        BiMHMMatcher(reduction='max')
