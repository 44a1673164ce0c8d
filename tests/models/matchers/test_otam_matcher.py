"""Tests of OTAMMatcher against hand-computed values and a naive loop
implementation of CLIP-FSAR's ``OTAM_cum_dist_v2`` recursion."""
import math

import pytest
import torch

from mafsar_mm.models.matchers import OTAMMatcher, ProtoMatcher


def _soft_min(values, lbda):
    return -lbda * math.log(sum(math.exp(-v / lbda) for v in values))


def _naive_cum_dist(d, lbda):
    """One-directional OTAM distance of a [T_q][T_s] list of floats.

    Plain Python loops following the recursion of CLIP-FSAR's
    ``OTAM_cum_dist_v2``: zero padding column on both sides, plain sum on
    the first row, soft-min elsewhere, column 0 fixed at zero.
    """
    rows = len(d)
    padded = [[0.0] + list(row) + [0.0] for row in d]
    cols = len(padded[0])
    cum = [[0.0] * cols for _ in range(rows)]
    for m in range(1, cols):
        cum[0][m] = padded[0][m] + cum[0][m - 1]
    for ll in range(1, rows):
        cum[ll][1] = padded[ll][1] + _soft_min(
            [cum[ll - 1][0], cum[ll - 1][1], cum[ll][0]], lbda)
        for m in range(2, cols - 1):
            cum[ll][m] = padded[ll][m] + _soft_min(
                [cum[ll - 1][m - 1], cum[ll][m - 1]], lbda)
        cum[ll][cols - 1] = padded[ll][cols - 1] + _soft_min(
            [cum[ll - 1][cols - 2], cum[ll - 1][cols - 1], cum[ll][cols - 2]],
            lbda)
    return cum[rows - 1][cols - 1]


def _cosine_distance(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    norm_a = math.sqrt(sum(x * x for x in a))
    norm_b = math.sqrt(sum(x * x for x in b))
    return 1 - dot / (norm_a * norm_b)


def _naive_otam_logits(support, labels, query, lbda=0.5, bidirectional=True):
    support = support.tolist()
    query = query.tolist()
    labels = labels.tolist()
    num_classes = max(labels) + 1
    logits = []
    for q in query:
        row = []
        for c in range(num_classes):
            dists = []
            for s, label in zip(support, labels):
                if label != c:
                    continue
                d = [[_cosine_distance(qf, sf) for sf in s] for qf in q]
                dist = _naive_cum_dist(d, lbda)
                if bidirectional:
                    d_t = [list(col) for col in zip(*d)]
                    dist += _naive_cum_dist(d_t, lbda)
                dists.append(dist)
            row.append(-sum(dists) / len(dists))
        logits.append(row)
    return torch.tensor(logits, dtype=torch.float64)


def test_otam_hand_computed_two_frames():
    # Query and support are both [e1, e2]: d = [[0, 1], [1, 0]].
    # Padded rows: [0, 0, 1, 0] and [0, 1, 0, 0]; lambda = 0.5.
    # Row 0 (plain running sum): [0, 0, 1, 1].
    # Row 1: C[1,1] = 1 + sm(0, 0, 0) = 1 - 0.5 * ln 3
    #        C[1,2] = 0 + sm(C[0,1] = 0, C[1,1])
    #        C[1,3] = 0 + sm(C[0,2] = 1, C[0,3] = 1, C[1,2])
    # d is symmetric, so support->query adds the same value.
    c11 = 1 - 0.5 * math.log(3)
    c12 = -0.5 * math.log(1 + math.exp(-2 * c11))
    c13 = -0.5 * math.log(2 * math.exp(-2) + math.exp(-2 * c12))
    assert c13 == pytest.approx(-0.25841, abs=1e-4)
    frames = torch.tensor([[[1., 0.], [0., 1.]]])  # [1, 2, 2]
    labels = torch.tensor([0])
    logits = OTAMMatcher()(frames, labels, frames)
    assert logits.shape == (1, 1)
    assert logits.item() == pytest.approx(-2 * c13, abs=1e-5)
    one_way = OTAMMatcher(bidirectional=False)(frames, labels, frames)
    assert one_way.item() == pytest.approx(-c13, abs=1e-5)


def test_otam_hand_computed_asymmetric():
    # Query [e1, e1], support [e1, e2]: d = [[0, 1], [0, 1]].
    # q->s: row 0 [0, 0, 1, 1]; C[1,1] = 0 + sm(0, 0, 0) = -0.5 ln 3;
    #   C[1,2] = 1 + sm(0, C[1,1]); C[1,3] = sm(1, 1, C[1,2]).
    a11 = -0.5 * math.log(3)
    a12 = 1 - 0.5 * math.log(1 + math.exp(-2 * a11))
    a13 = -0.5 * math.log(2 * math.exp(-2) + math.exp(-2 * a12))
    # s->q uses d^T = [[0, 0], [1, 1]]: row 0 [0, 0, 0, 0];
    #   C[1,1] = 1 + sm(0, 0, 0); C[1,2] = 1 + sm(0, C[1,1]);
    #   C[1,3] = sm(0, 0, C[1,2]).
    b11 = 1 - 0.5 * math.log(3)
    b12 = 1 - 0.5 * math.log(1 + math.exp(-2 * b11))
    b13 = -0.5 * math.log(2 + math.exp(-2 * b12))
    query = torch.tensor([[[1., 0.], [1., 0.]]])
    support = torch.tensor([[[1., 0.], [0., 1.]]])
    logits = OTAMMatcher()(support, torch.tensor([0]), query)
    assert logits.item() == pytest.approx(-(a13 + b13), abs=1e-5)


@pytest.mark.parametrize('bidirectional', [True, False])
@pytest.mark.parametrize('t', [1, 3, 5])
def test_otam_matches_naive_loops(bidirectional, t):
    gen = torch.Generator().manual_seed(t)
    support = torch.randn(6, t, 4, generator=gen, dtype=torch.float64)
    query = torch.randn(3, t, 4, generator=gen, dtype=torch.float64)
    labels = torch.tensor([2, 0, 1, 1, 0, 2])
    matcher = OTAMMatcher(bidirectional=bidirectional)
    logits = matcher(support, labels, query)
    expected = _naive_otam_logits(
        support, labels, query, bidirectional=bidirectional)
    torch.testing.assert_close(logits, expected, rtol=1e-9, atol=1e-9)


def test_otam_other_lambda_matches_naive():
    gen = torch.Generator().manual_seed(3)
    support = torch.randn(2, 4, 3, generator=gen, dtype=torch.float64)
    query = torch.randn(2, 4, 3, generator=gen, dtype=torch.float64)
    labels = torch.tensor([1, 0])
    logits = OTAMMatcher(lbda=0.1)(support, labels, query)
    expected = _naive_otam_logits(support, labels, query, lbda=0.1)
    torch.testing.assert_close(logits, expected, rtol=1e-9, atol=1e-9)


def test_otam_identical_sequence_scores_highest():
    gen = torch.Generator().manual_seed(0)
    support = torch.randn(5, 6, 16, generator=gen)
    labels = torch.arange(5)
    for c in range(5):
        logits = OTAMMatcher()(support, labels, support[c:c + 1])
        assert logits.argmax(dim=1).item() == c


def test_otam_time_reversal_lowers_score_proto_does_not():
    # Orthogonal frames in order 0..3; the reversed support has the same
    # frames backwards.
    frames = torch.eye(4)[None]  # [1, 4, 4]
    support = torch.cat([frames, frames.flip(1)])  # [2, 4, 4]
    labels = torch.tensor([0, 1])
    otam = OTAMMatcher()(support, labels, frames)
    assert otam[0, 0] > otam[0, 1]
    proto = ProtoMatcher()(support, labels, frames)
    torch.testing.assert_close(proto[0, 0], proto[0, 1])


def test_otam_invalid_lambda():
    with pytest.raises(ValueError, match='lbda'):
        OTAMMatcher(lbda=0)
