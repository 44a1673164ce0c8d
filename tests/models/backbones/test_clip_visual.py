import pytest
import torch

from mafsar_mm.models.backbones import CLIPVisual
from mafsar_mm.models.clip import TINY_CLIP_CFG


@pytest.mark.parametrize('frozen', [True, False])
def test_per_frame_clip_features(tiny, frozen):
    clip, path = tiny
    backbone = CLIPVisual(
        clip=dict(model_cfg=TINY_CLIP_CFG, pretrained=path), frozen=frozen)
    imgs = torch.randn(2, 3, 4, 64, 64)
    frames = imgs.permute(0, 2, 1, 3, 4).reshape(8, 3, 64, 64)
    with torch.no_grad():
        ref = clip.encode_image(frames).reshape(2, 4, -1)
    out = backbone(imgs, torch.randn(2, 64))  # text is ignored
    assert out.shape == (2, 4, 64) and backbone.output_dim == 64
    assert torch.allclose(out, ref, atol=1e-5)
    assert all(p.requires_grad != frozen for p in backbone.parameters())
    assert out.requires_grad != frozen
    backbone.train()
    assert backbone.visual.training != frozen


def test_with_cp_same_output_and_gradients(tiny):
    _, path = tiny
    cfg = dict(model_cfg=TINY_CLIP_CFG, pretrained=path)
    plain, ckpt = CLIPVisual(cfg), CLIPVisual(cfg, with_cp=True)
    imgs = torch.randn(2, 3, 4, 64, 64)
    grads = []
    for model in (plain, ckpt):
        model.train()
        out = model(imgs)
        out.pow(2).sum().backward()
        grads.append(model.visual.conv1.weight.grad.clone())
    assert torch.allclose(plain(imgs), ckpt(imgs), atol=1e-6)
    assert torch.allclose(grads[0], grads[1], atol=1e-5)
