"""Tests of ProtoMatcher with hand-computed values."""
import math

import pytest
import torch

from mafsar_mm.models.matchers import ProtoMatcher


def _hand_case():
    # Class 0: two shots with frame means (2, 0) and (4, 0) -> prototype
    # (3, 0). Class 1: one shot with frame mean (0, 1).
    support = torch.tensor([
        [[1., 0.], [3., 0.]],
        [[0., 1.], [0., 1.]],
        [[4., 0.], [4., 0.]],
    ])
    labels = torch.tensor([0, 1, 0])
    # Query frame mean (3, 1).
    query = torch.tensor([[[2., 2.], [4., 0.]]])
    return support, labels, query


def test_proto_hand_computed_cosine():
    logits = ProtoMatcher()(*_hand_case())
    expected = torch.tensor([[3 / math.sqrt(10), 1 / math.sqrt(10)]])
    torch.testing.assert_close(logits, expected)


def test_proto_hand_computed_squared_euclidean():
    # (3, 1) - (3, 0) -> 1; (3, 1) - (0, 1) -> 9.
    logits = ProtoMatcher(metric='euclidean')(*_hand_case())
    torch.testing.assert_close(logits, torch.tensor([[-1., -9.]]))


def test_proto_unknown_metric():
    with pytest.raises(ValueError, match="'cosine', 'euclidean'"):
        ProtoMatcher(metric='dot')


@pytest.mark.parametrize('metric', ['cosine', 'euclidean'])
def test_proto_scale_multiplies_logits(metric):
    plain = ProtoMatcher(metric=metric)(*_hand_case())
    scaled = ProtoMatcher(metric=metric, scale=8)(*_hand_case())
    torch.testing.assert_close(scaled, 8 * plain)


@pytest.mark.parametrize('scale', [0, -1.0])
def test_proto_scale_must_be_positive(scale):
    with pytest.raises(ValueError, match='scale must be > 0'):
        ProtoMatcher(scale=scale)
