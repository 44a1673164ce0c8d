"""Frame order as a design property (docs/method.md, "Temporal position").

GTA attends over the T class tokens of a video; without a position signal
that attention, like the per-frame LMA/LSTA and joint adapters, commutes with
a permutation of the frames, so the encoder could not tell "moving left"
from "moving right" except through the matcher. The MA-FSAR configs switch
on a learnable temporal embedding (as AIM does); these tests pin the
property both ways, with the backbone built from the shipped config.
"""
import copy
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

import mafsar_mm  # noqa: F401  (registers the models)
from mafsar_mm.models.necks import MultimodalTransformer

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__))))), 'configs')

V, T, RES = 2, 8, 64
PERM = torch.tensor([3, 0, 6, 1, 7, 2, 5, 4])


def default_backbone_cfg(**overrides) -> dict:
    """The backbone of the quickstart config, random CLIP weights."""
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'mafsar', 'mafsar_vit-tiny_5w1s_synthetic.py'))
    backbone = copy.deepcopy(cfg.model.backbone.to_dict())
    backbone['clip'] = dict(backbone['clip'], pretrained=None)
    backbone.update(overrides)
    return backbone


def build(**overrides):
    torch.manual_seed(0)
    return MODELS.build(default_backbone_cfg(**overrides))


def randomise_tunable(model, std=0.2, seed=1):
    """Nonzero adapters and temporal embedding, as after training."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.copy_(torch.randn(param.shape, generator=g) * std)


def videos():
    g = torch.Generator().manual_seed(0)
    return torch.randn(V, 3, T, RES, RES, generator=g)


def permutation_gap(model, text=None):
    """max |f(permuted video) - permuted f(video)|, relative to |f|."""
    imgs = videos()
    with torch.no_grad():
        feats = model(imgs, text)
        permuted = model(imgs[:, :, PERM], text)
    return ((permuted - feats[:, PERM]).abs().max() /
            feats.abs().max()).item()


def test_config_default_has_temporal_position():
    assert default_backbone_cfg()['temporal_pos_embed'] is True


@pytest.mark.parametrize('with_text', [False, True])
def test_default_encoder_sees_frame_order(with_text):
    model = build().eval()
    randomise_tunable(model)
    text = torch.randn(V, 128) if with_text else None
    assert permutation_gap(model, text) > 0.05


@pytest.mark.parametrize('with_text', [False, True])
def test_without_temporal_position_encoder_is_permutation_equivariant(
        with_text):
    model = build(temporal_pos_embed=False).eval()
    randomise_tunable(model)
    text = torch.randn(V, 128) if with_text else None
    assert permutation_gap(model, text) < 1e-5


def test_one_training_step_makes_default_encoder_order_aware():
    """The zero-initialised embedding (adapters are no-ops at the start)
    receives a gradient at once, through the class tokens' residual
    stream, so training makes the encoder order-aware."""
    model = build().train()
    assert permutation_gap(model.eval()) < 1e-5  # exact no-op at init
    model.train()
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-2)
    target = torch.randn(V, T, 128,
                         generator=torch.Generator().manual_seed(2))
    loss = (model(videos()) * target).sum()
    loss.backward()
    assert model.temporal_embedding.grad.abs().max() > 0
    optimizer.step()
    assert permutation_gap(model.eval()) > 1e-4


def test_clipfsar_multimodal_transformer_has_no_position_signal():
    """CLIP-FSAR's official CNN_OTAM_CLIPFSAR feeds frame features (and the
    text token) to Transformer_v1 without any positional encoding
    (models/base/few_shot.py L2691-2960 of alibaba-mmai-research/CLIP-FSAR):
    ours matches, so it commutes with a frame permutation."""
    torch.manual_seed(0)
    neck = MultimodalTransformer(in_channels=32, num_heads=4,
                                 ffn_channels=64).eval()
    support, query = torch.randn(3, T, 32), torch.randn(2, T, 32)
    text = torch.randn(3, 32)
    with torch.no_grad():
        s, q = neck(support, query, support_text=text)
        sp, qp = neck(support[:, PERM], query[:, PERM], support_text=text)
    torch.testing.assert_close(sp, s[:, PERM], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(qp, q[:, PERM], atol=1e-5, rtol=1e-5)
