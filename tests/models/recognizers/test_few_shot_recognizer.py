"""End-to-end behaviour of the MA-FSAR recognizer on the tiny CLIP."""
from unittest import mock

import pytest
import torch
from conftest import small_config
from mmaction.registry import DATASETS, MODELS
from mmengine.optim import build_optim_wrapper

import mafsar_mm  # noqa: F401


@pytest.fixture(scope='module')
def cfg(synthetic_root):
    return small_config(synthetic_root)


@pytest.fixture(scope='module')
def train_batch(cfg):
    cfg.train_dataloader.dataset.n_query = 2
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    item = dataset[12345]
    return dict(inputs=[item['inputs']], data_samples=[item['data_samples']])


def build_model(cfg, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(cfg.model)


def test_one_step_changes_only_tuned_parameters(cfg, train_batch):
    model = build_model(cfg)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    tuned = {n for n, p in model.named_parameters() if p.requires_grad}
    assert tuned and all(
        n.startswith(('backbone.', 'head.')) for n in tuned)
    assert not any(n.startswith('text_encoder.') for n in tuned)
    optim = build_optim_wrapper(
        model, dict(optimizer=dict(type='AdamW', lr=1e-2)))
    model.train_step(train_batch, optim)
    changed = {k for k, v in model.state_dict().items()
               if not torch.equal(v, before[k])}
    for name, p in model.named_parameters():
        if p.requires_grad:
            continue
        # every CLIP weight (visual and text) is bit-identical
        assert name not in changed, name
        assert p.grad is None, name
    # adapters, Text FCs, TPCM and the head all moved
    for part in ('backbone.t_adapters', 'backbone.m_adapters',
                 'backbone.j_adapters', 'backbone.text_fcs', 'head.neck',
                 'head.log_text_scale'):
        assert any(k.startswith(part) for k in changed), part


def test_support_reads_text_and_query_does_not(cfg, train_batch):
    model = build_model(cfg).eval()
    calls = []
    original = model.backbone.forward

    def spy(imgs, text=None):
        calls.append((imgs.shape[0], text))
        return original(imgs, text)

    data = model.data_preprocessor(train_batch, False)
    with mock.patch.object(model.backbone, 'forward', side_effect=spy):
        with torch.no_grad():
            model.predict(data['inputs'], data['data_samples'])
    (n_support, support_text), (n_query, query_text) = calls
    sample = data['data_samples'][0]
    assert n_support == sample.num_support
    assert n_query == len(sample.query_labels)
    assert support_text is not None and support_text.shape[0] == n_support
    assert query_text is None


def test_fixed_episode_is_overfitted(cfg, train_batch):
    model = build_model(cfg)
    optim = build_optim_wrapper(
        model, dict(optimizer=dict(type='AdamW', lr=2e-3)))
    losses = []
    for _ in range(40):
        log = model.train_step(train_batch, optim)
        losses.append(float(log['loss'].detach()))
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    # 1.66 -> 0.79 with the 4-block conv-stem tiny CLIP (random weights)
    assert last < 0.7 * first, losses
    # steadily: each block of 10 steps lower than the one before
    blocks = [sum(losses[i:i + 10]) / 10 for i in range(0, 40, 10)]
    assert all(b < a for a, b in zip(blocks, blocks[1:])), losses


def test_predict_gives_probabilities(cfg, train_batch):
    model = build_model(cfg).eval()
    with torch.no_grad():
        out = model.test_step(train_batch)[0]
    n = len(out.class_names)
    assert out.pred_scores.shape == (len(out.query_labels), n)
    assert torch.allclose(out.pred_scores.sum(1), torch.ones(len(
        out.query_labels)), atol=1e-5)
    assert torch.equal(out.pred_labels, out.pred_scores.argmax(1))


def test_bad_mode_lists_supported_modes(cfg, train_batch):
    model = build_model(cfg)
    data = model.data_preprocessor(train_batch, False)
    with pytest.raises(ValueError, match="'loss', 'predict' and 'tensor'"):
        model(data['inputs'], data['data_samples'], mode='features')


def test_matcher_width_follows_the_backbone(cfg, train_batch):
    """``--cfg-options model.head.matcher.type=TRXMatcher`` alone: the
    TRX matcher gets the tiny CLIP's width (128, not its 512 default) and
    frame count, and a training step runs."""
    trx = cfg.copy()
    trx.merge_from_dict({'model.head.matcher.type': 'TRXMatcher'})
    assert 'in_channels' not in trx.model.head.matcher
    model = build_model(trx)
    assert model.backbone.output_dim == 128
    assert model.head.matcher.in_channels == 128
    assert model.head.matcher.seq_len == model.backbone.num_frames == 8
    optim = build_optim_wrapper(
        model, dict(optimizer=dict(type='AdamW', lr=1e-3)))
    losses = model.train_step(train_batch, optim)
    assert torch.isfinite(sum(losses.values()))
    # a width that is given is kept (and then checked by the matcher)
    trx.merge_from_dict({'model.head.matcher.in_channels': 64})
    assert build_model(trx).head.matcher.in_channels == 64
