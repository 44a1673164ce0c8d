"""ProtoMatcher(average='score') is CLIP-FSAR's CNN_TSN."""
import pytest
import torch
import torch.nn.functional as F

import mafsar_mm  # noqa: F401
from mafsar_mm.models.matchers import ProtoMatcher


def cnn_tsn(support, labels, query):
    """models/base/few_shot.py L1551-1570 (CLIP-FSAR @ 30cf0a8), with the
    exact cosine: time means, cosine to every support video, mean over the
    shots of each class."""
    s, q = support.mean(1), query.mean(1)
    sim = F.normalize(q, dim=-1) @ F.normalize(s, dim=-1).t()
    return torch.stack([
        sim[:, torch.nonzero(labels == c).flatten()].mean(1)
        for c in torch.unique(labels)
    ], dim=1)


def test_score_average_is_cnn_tsn():
    torch.manual_seed(0)
    support, query = torch.randn(15, 8, 16), torch.randn(4, 8, 16)
    labels = torch.arange(3).repeat(5)
    out = ProtoMatcher(average='score')(support, labels, query)
    assert torch.allclose(out, cnn_tsn(support, labels, query), atol=1e-6)
    proto = ProtoMatcher()(support, labels, query)
    assert not torch.allclose(out, proto, atol=1e-3)
    # one shot: the same
    one = torch.arange(3)
    assert torch.allclose(
        ProtoMatcher(average='score')(support[:3], one, query),
        ProtoMatcher()(support[:3], one, query), atol=1e-6)


def test_score_average_euclidean_and_bad_value():
    support, query = torch.randn(6, 4, 8), torch.randn(2, 4, 8)
    labels = torch.arange(3).repeat(2)
    out = ProtoMatcher(metric='euclidean', average='score')(
        support, labels, query)
    d = -(query.mean(1)[:, None] - support.mean(1)[None]).pow(2).sum(-1)
    assert torch.allclose(out, (d[:, :3] + d[:, 3:]) / 2, atol=1e-5)
    with pytest.raises(ValueError, match='average must be one of'):
        ProtoMatcher(average='mean')
