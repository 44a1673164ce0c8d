import math

import pytest
import torch
import torch.nn.functional as F

import mafsar_mm  # noqa: F401
from mafsar_mm.models.heads import FewShotHead
from mafsar_mm.utils.errors import InputError


def episode(n=3, k=2, q=2, t=4, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    support = torch.randn(n * k, t, d, generator=g)
    query = torch.randn(n * q, t, d, generator=g)
    text = torch.randn(n, d, generator=g)
    support_labels = torch.arange(n).repeat_interleave(k)
    query_labels = torch.arange(n).repeat_interleave(q)
    return support, support_labels, query, query_labels, text


def test_no_text_branch_is_plain_cross_entropy():
    s, sl, q, ql, _ = episode()
    head = FewShotHead(matcher=dict(type='ProtoMatcher'), match_scale=5.0)
    losses = head.loss(s, sl, q, ql)
    assert set(losses) == {'loss_q2s', 'acc_q2s'}
    protos = F.normalize(s.mean(1).view(3, 2, -1).mean(1), dim=-1)
    logits = 5.0 * F.normalize(q.mean(1), dim=-1) @ protos.t()
    assert torch.allclose(losses['loss_q2s'], F.cross_entropy(logits, ql),
                          atol=1e-6)
    probs = head.predict(s, sl, q)
    assert torch.allclose(probs, logits.softmax(1), atol=1e-6)


def test_text_branch_losses_and_fusion_follow_the_spec():
    s, sl, q, ql, text = episode()
    alpha = 0.3
    head = FewShotHead(
        matcher=dict(type='OTAMMatcher'), alpha=alpha,
        text_logit_scale=20.0)
    out = head(s, sl, q, text)
    tn = F.normalize(text, dim=-1)
    q2t = 20.0 * F.normalize(q.mean(1), dim=-1) @ tn.t()
    s2t = 20.0 * F.normalize(s.mean(1), dim=-1) @ tn.t()
    assert torch.allclose(out['q2t'], q2t, atol=1e-5)
    assert torch.allclose(out['s2t'], s2t, atol=1e-5)

    def kl(logits, labels):
        target = F.softmax(10.0 * F.one_hot(labels, 3).float(), dim=1)
        logp = F.log_softmax(logits, dim=1)
        return (target * (target.log() - logp)).sum(1).mean()

    losses = head.loss(s, sl, q, ql, text)
    expected_text = alpha * (kl(s2t, sl) + kl(q2t, ql)) / 2
    assert torch.allclose(losses['loss_text'], expected_text, atol=1e-5)
    expected_q2s = (1 - alpha) * F.cross_entropy(out['match'], ql)
    assert torch.allclose(losses['loss_q2s'], expected_q2s, atol=1e-6)
    probs = head.predict(s, sl, q, text)
    expected = alpha * q2t.softmax(1) + (1 - alpha) * out['match'].softmax(1)
    assert torch.allclose(probs, expected, atol=1e-6)
    assert torch.allclose(probs.sum(1), torch.ones(len(q)), atol=1e-6)


def test_text_branch_without_text_is_a_clear_error():
    s, sl, q, ql, _ = episode()
    head = FewShotHead(matcher=dict(type='ProtoMatcher'), alpha=0.5)
    with pytest.raises(ValueError, match='set a text_encoder'):
        head.loss(s, sl, q, ql)


@pytest.mark.parametrize('kwargs, message', [
    (dict(alpha=1.5), 'alpha must be in'),
    (dict(text_loss='mse'),
     "text_loss must be a loss config such as dict\\(type='OneHotKLLoss'\\)"
     " or dict\\(type='CrossEntropyLoss'\\), got 'mse'"),
    (dict(alpha=0.5, text_loss=None),
     'alpha > 0 weights a text loss, but text_loss is None'),
    (dict(match_scale=0.0), 'must be > 0'),
    (dict(match_loss=dict(type='CrossEntropyLoss', loss_weight=0)),
     'match_loss loss_weight must be > 0, got 0'),
    (dict(loss_weight=2.0),
     r"unexpected arguments \['loss_weight'\] \(moved: loss_weight -> the "
     "loss configs' loss_weight"),
    (dict(text_classes='split'), "text_classes -> type='CLIPFSARHead'"),
])
def test_bad_options(kwargs, message):
    # InputError: the tools print one 'error:' line, no stack trace
    with pytest.raises(InputError, match=message):
        FewShotHead(matcher=dict(type='ProtoMatcher'), **kwargs)


def test_learnable_scales_receive_gradients():
    s, sl, q, ql, text = episode()
    head = FewShotHead(
        matcher=dict(type='OTAMMatcher'), alpha=0.5,
        learnable_match_scale=True)
    losses = head.loss(s, sl, q, ql, text)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert head.log_match_scale.grad is not None
    assert head.log_text_scale.grad is not None
    assert head.log_text_scale.item() == pytest.approx(math.log(1 / 0.07))


def test_geometric_fusion_and_predict_match_scale_follow_clipfsar():
    # CLIP-FSAR's COMBINE: p ~ p_text^0.9 * softmax(-d / 8)^0.1
    s, sl, q, ql, text = episode()
    head = FewShotHead(
        matcher=dict(type='OTAMMatcher'), alpha=0.75, predict_alpha=0.9,
        text_loss=dict(type='CrossEntropyLoss'), text_logit_scale=1.0,
        fusion=dict(type='GeometricFusion', match_scale=1 / 8))
    out = head(s, sl, q, text)
    raw = head.matcher(s, sl, q)
    assert torch.allclose(out['match'], raw, atol=1e-6)
    fused = (out['q2t'].softmax(1).pow(0.9) *
             (raw / 8).softmax(1).pow(0.1))
    expected = fused / fused.sum(1, keepdim=True)
    assert torch.allclose(head.predict(s, sl, q, text), expected, atol=1e-6)
    losses = head.loss(s, sl, q, ql, text)
    text_ce = (F.cross_entropy(out['s2t'], sl) +
               F.cross_entropy(out['q2t'], ql)) / 2
    assert torch.allclose(losses['loss_text'], 0.75 * text_ce, atol=1e-6)
    assert torch.allclose(losses['loss_q2s'],
                          0.25 * F.cross_entropy(raw, ql), atol=1e-6)


def test_predict_match_scale_replaces_the_training_scale():
    s, sl, q, _, _ = episode()
    head = FewShotHead(
        matcher=dict(type='ProtoMatcher'), match_scale=5.0,
        fusion=dict(type='ArithmeticFusion', match_scale=2.0))
    raw = head.matcher(s, sl, q)
    assert torch.allclose(head.predict(s, sl, q), (2.0 * raw).softmax(1),
                          atol=1e-6)


def test_bad_fusion_and_prediction_match_scale():
    with pytest.raises(InputError, match="fusion must be a config such as "
                       "dict\\(type='ArithmeticFusion'\\)"):
        FewShotHead(matcher=dict(type='ProtoMatcher'), fusion='geometric')
    with pytest.raises(ValueError, match='match_scale must be > 0, got 0.0'):
        FewShotHead(matcher=dict(type='ProtoMatcher'),
                    fusion=dict(type='GeometricFusion', match_scale=0.0))


def test_predict_modes():
    s, sl, q, _, text = episode()
    head = FewShotHead(
        matcher=dict(type='OTAMMatcher'), alpha=0.4, text_logit_scale=20.0)
    out = head(s, sl, q, text)
    fused = head.predict(s, sl, q, text)
    expected = 0.4 * out['q2t'].softmax(1) + 0.6 * out['match'].softmax(1)
    assert torch.allclose(fused, expected, atol=1e-6)
    # 'match' and 'text' are the two terms of the fused prediction
    assert torch.equal(
        head.predict(s, sl, q, text, mode='match'), out['match'].softmax(1))
    text_only = head.predict(None, None, q, text, mode='text')
    assert torch.equal(text_only, out['q2t'].softmax(1))
    with pytest.raises(ValueError, match=r"one of \('fused', 'match', "
                       r"'text'\), got 'zero'"):
        head.predict(s, sl, q, text, mode='zero')
    with pytest.raises(ValueError, match=r"one of \('fused', 'match', "
                       r"'text'\), got 'txt'"):
        FewShotHead(matcher=dict(type='OTAMMatcher'), predict_mode='txt')
    with pytest.raises(ValueError, match='set a text_encoder'):
        head.predict(None, None, q, None, mode='text')
    with pytest.raises(ValueError, match="only 'text' works"):
        head.predict(None, None, q, text)


def test_text_mode_without_a_trained_text_branch():
    s, sl, q, _, text = episode()
    head = FewShotHead(
        matcher=dict(type='ProtoMatcher'),
        predict_mode='text',
        text_logit_scale=20.0)
    assert not head.uses_support
    assert 'log_text_scale' not in head.state_dict()  # not a checkpoint key
    q2t = 20.0 * F.normalize(q.mean(1), dim=-1) @ F.normalize(
        text, dim=-1).t()
    assert torch.allclose(
        head.predict(None, None, q, text), q2t.softmax(1), atol=1e-6)
