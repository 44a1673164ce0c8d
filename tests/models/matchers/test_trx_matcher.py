"""Tests of TRXMatcher: parameter count, gradients and agreement with a
naive per-class, per-query loop written like the TRX reference."""
import math
from itertools import combinations

import pytest
import torch

from mafsar_mm.models.matchers import TRXMatcher


def _small_trx(**kwargs):
    cfg = dict(
        in_channels=8,
        seq_len=4,
        temporal_set_size=(2, 3),
        trans_linear_out_dim=16,
        dropout=0.0)
    cfg.update(kwargs)
    torch.manual_seed(0)
    return TRXMatcher(**cfg).eval()


def _naive_trx_logits(matcher, support, labels, query):
    """Loops over cardinalities, classes and queries (TRX's own order)."""
    seq_len = support.shape[1]
    num_classes = int(labels.max()) + 1
    all_dists = []
    for size, t in zip(matcher.temporal_set_size, matcher.transformers):
        tuples = list(combinations(range(seq_len), size))
        pe = t.pe.pe[:seq_len]

        def tuple_feats(x, tuples=tuples, pe=pe):
            x = x + pe
            return torch.stack(
                [torch.cat([x[:, i] for i in tup], dim=-1) for tup in tuples],
                dim=1)  # [B, P, size * D]

        s_tuples, q_tuples = tuple_feats(support), tuple_feats(query)
        s_k = t.norm_k(t.k_linear(s_tuples))
        q_k = t.norm_k(t.k_linear(q_tuples))
        s_v, q_v = t.v_linear(s_tuples), t.v_linear(q_tuples)
        channels = s_k.shape[-1]
        dists = torch.zeros(len(query), num_classes)
        for c in range(num_classes):
            idx = torch.nonzero(labels == c).flatten()
            class_k = s_k[idx].reshape(-1, channels)  # [K * P, C]
            class_v = s_v[idx].reshape(-1, channels)
            for qi in range(len(query)):
                scores = q_k[qi] @ class_k.t() / math.sqrt(channels)
                proto = torch.softmax(scores, dim=1) @ class_v  # [P, C]
                diff = q_v[qi] - proto
                dists[qi, c] = (diff**2).sum() / len(tuples)
        all_dists.append(dists)
    return -torch.stack(all_dists, dim=-1).mean(dim=-1)


def test_trx_parameter_count():
    # Per cardinality w: key and value Linear(w * 512 -> 1152) with bias
    # and one LayerNorm(1152) on the keys (weight and bias).
    d, c = 512, 1152
    expected = 0
    for w in (2, 3):
        expected += 2 * (w * d * c + c) + 2 * c
    assert expected == 5907456
    matcher = TRXMatcher(in_channels=512, seq_len=8)
    assert sum(p.numel() for p in matcher.parameters()) == expected


def test_trx_tuples_are_ordered_combinations():
    matcher = _small_trx()
    pairs = matcher.transformers[0].tuples.tolist()
    assert pairs == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    assert len(matcher.transformers[1].tuples) == 4


@pytest.mark.parametrize(
    'labels',
    [
        [0, 1, 2, 0, 1, 2],  # balanced, interleaved
        [2, 2, 0, 1, 1, 1],  # unbalanced shots in any order
    ])
def test_trx_matches_naive_loops(labels):
    matcher = _small_trx()
    gen = torch.Generator().manual_seed(1)
    support = torch.randn(6, 4, 8, generator=gen)
    query = torch.randn(5, 4, 8, generator=gen)
    labels = torch.tensor(labels)
    with torch.no_grad():
        logits = matcher(support, labels, query)
        expected = _naive_trx_logits(matcher, support, labels, query)
    assert logits.shape == (5, 3)
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


def test_trx_gradients_reach_parameters_and_inputs():
    matcher = _small_trx(dropout=0.1).train()
    support = torch.randn(6, 4, 8, requires_grad=True)
    query = torch.randn(3, 4, 8, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    logits = matcher(support, labels, query)
    target = torch.tensor([0, 1, 2])
    torch.nn.functional.cross_entropy(logits, target).backward()
    for name, param in matcher.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name
    assert support.grad.abs().sum() > 0
    assert query.grad.abs().sum() > 0


def test_trx_rejects_other_sequence_length():
    matcher = _small_trx()
    support = torch.randn(2, 5, 8)
    query = torch.randn(1, 5, 8)
    with pytest.raises(ValueError, match='T=4'):
        matcher(support, torch.tensor([0, 1]), query)
    with pytest.raises(ValueError, match='D=8'):
        matcher(
            torch.randn(2, 4, 6), torch.tensor([0, 1]), torch.randn(1, 4, 6))


def test_trx_invalid_cardinality():
    with pytest.raises(ValueError, match='temporal_set_size'):
        TRXMatcher(in_channels=8, seq_len=4, temporal_set_size=(5, ))
