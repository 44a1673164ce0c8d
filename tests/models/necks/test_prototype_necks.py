import pytest
import torch

from mafsar_mm.models.necks import (TPCM, MultimodalTransformer,
                                    PrototypeTransformerLayer,
                                    TemporalTransformer)

NK, Q, T, D = 6, 4, 8, 32


def features(seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(NK, T, D, generator=g),
            torch.randn(Q, T, D, generator=g),
            torch.randn(NK, D, generator=g))


def small(cls, **kwargs):
    return cls(in_channels=D, num_heads=4, ffn_channels=64,
               **kwargs).eval()


def test_tpcm_parameter_count():
    tpcm = TPCM(in_channels=512, num_heads=8, ffn_channels=2048)
    count = sum(p.numel() for p in tpcm.parameters())
    assert count == 3152384
    assert abs(count - 3.15e6) < 0.01e6


@pytest.mark.parametrize('cls', [TPCM, MultimodalTransformer,
                                 TemporalTransformer])
def test_neck_shapes_and_query_independence(cls):
    neck = small(cls)
    support, query, text = features()
    sup, qry = neck(support, query, text)
    assert sup.shape == (NK, T, D) and qry.shape == (Q, T, D)
    sup_none, qry_none = neck(support, query)
    assert sup_none.shape == (NK, T, D)
    # the query branch depends on nothing but the query
    assert torch.allclose(qry, qry_none)
    assert torch.allclose(neck(support[:2], query[:1], text[:2])[1],
                          qry[:1], atol=1e-6)
    # without text the support takes the query path
    assert torch.allclose(sup_none, neck.layer(support))


@pytest.mark.parametrize('cls', [TPCM, MultimodalTransformer])
def test_text_changes_support(cls):
    neck = small(cls)
    support, query, text = features()
    sup_a, _ = neck(support, query, text)
    sup_b, _ = neck(support, query, text.flip(0))
    assert (sup_a - sup_b).abs().max() > 1e-3


def test_temporal_transformer_ignores_text():
    neck = small(TemporalTransformer)
    support, query, text = features()
    assert torch.allclose(
        neck(support, query, text)[0], neck(support, query)[0])
    # ignored, so not checked either
    assert torch.equal(
        neck(support, query, text[:, :3])[0], neck(support, query)[0])


@pytest.mark.parametrize('cls', [TPCM, MultimodalTransformer])
def test_text_shape_is_checked(cls):
    support, query, text = features()
    match = rf'support_text must be \[{NK}, {D}\], got \({NK}, 3\)'
    with pytest.raises(ValueError, match=match):
        small(cls)(support, query, text[:, :3])


def test_tpcm_follows_the_spec_formula():
    tpcm = small(TPCM)
    support, query, text = features()
    layer = tpcm.layer
    q = support + text[:, None]  # Q = F_S + repeat_T(f_t)
    kv = torch.cat([text[:, None], support], 1)  # concat(f_t, F_S)
    hidden = q + layer.attn(
        layer.norm1(q), layer.norm1(kv), layer.norm1(kv),
        need_weights=False)[0]
    ref = hidden + layer.ffn(layer.norm2(hidden))
    assert torch.allclose(tpcm.forward_support(support, text), ref,
                          atol=1e-6)
    hq = query + layer.attn(
        layer.norm1(query), layer.norm1(query), layer.norm1(query),
        need_weights=False)[0]
    ref_q = hq + layer.ffn(layer.norm2(hq))
    assert torch.allclose(tpcm(support, query, text)[1], ref_q, atol=1e-6)


def test_multimodal_transformer_appends_and_drops_the_text_token():
    neck = small(MultimodalTransformer)
    assert neck.layer.norm2 is None  # CLIP-FSAR: no norm before the FFN
    support, query, text = features()
    tokens = torch.cat([support, text[:, None]], 1)  # [NK, T+1, D]
    ref = neck.layer(tokens)[:, :T]
    assert torch.allclose(neck(support, query, text)[0], ref, atol=1e-6)


def test_layer_variants_and_errors():
    x = torch.randn(2, T, D)
    kv = torch.randn(2, T + 1, D)
    for kwargs in (dict(pre_norm=False), dict(kv_norm='separate'),
                   dict(ffn_norm=False, pre_norm=False)):
        layer = PrototypeTransformerLayer(
            D, 4, 64, **kwargs).eval()
        assert layer(x, kv).shape == x.shape
    with pytest.raises(ValueError, match='kv_norm'):
        PrototypeTransformerLayer(D, 4, kv_norm='none')
    with pytest.raises(ValueError, match='divisible'):
        PrototypeTransformerLayer(30, 4)
    neck = small(TPCM)
    support, query, text = features()
    with pytest.raises(ValueError, match='support_text'):
        neck(support, query, text[:2])
    with pytest.raises(ValueError, match='in_channels'):
        neck(support[..., :16], query)
    with pytest.raises(ValueError, match='B, T, D'):
        neck(support[0], query)


def test_dropout_only_in_train_mode():
    neck = TPCM(in_channels=D, num_heads=4, ffn_channels=64)
    support, query, text = features()
    neck.eval()
    assert torch.equal(neck(support, query, text)[0],
                       neck(support, query, text)[0])
    neck.train()
    torch.manual_seed(0)
    a = neck(support, query, text)[0]
    torch.manual_seed(1)
    b = neck(support, query, text)[0]
    assert not torch.equal(a, b)
