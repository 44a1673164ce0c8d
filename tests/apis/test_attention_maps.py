"""Class-token attention maps: recorded weights, rows, the PNG grid."""
import glob
import os.path as osp

import matplotlib.image as mpimg
import pytest
import torch
from conftest import small_config
from random_checkpoint import save_random_checkpoint

from mafsar_mm.apis import (FewShotInferencer, compute_attention_maps,
                            draw_attention_grid, grid_image_size, patch_maps)


@pytest.fixture(scope='module')
def model_and_clip(synthetic_root, tmp_path_factory):
    cfg = small_config(synthetic_root)
    cfg.model.backbone.fused_attn = False  # maps read nn.MultiheadAttention
    ckpt = str(tmp_path_factory.mktemp('att') / 'model.pth')
    save_random_checkpoint(cfg, ckpt, seed=1)
    inferencer = FewShotInferencer(cfg, ckpt)
    video = sorted(glob.glob(osp.join(synthetic_root, 'videos', '*.mp4')))[0]
    clip = inferencer.load_clip(video)  # uint8 [C, T, H, W]
    return inferencer, clip


def _manual_cls_attention(tower, frames):
    """Last-block class-token attention recomputed from ``ln_1`` and the
    in-projection weights (plain frozen tower)."""
    blocks = tower.transformer.resblocks
    x = tower._embeds(frames)
    for blk in blocks[:-1]:
        x = blk(x)
    last = blocks[-1]
    attn = last.attn
    dims, heads = attn.embed_dim, attn.num_heads
    h = last.ln_1(x)
    q, k, _ = torch.nn.functional.linear(h, attn.in_proj_weight,
                                         attn.in_proj_bias).split(
                                             dims, dim=-1)
    q = q.unflatten(-1, (heads, dims // heads)).transpose(1, 2)
    k = k.unflatten(-1, (heads, dims // heads)).transpose(1, 2)
    weights = (q @ k.transpose(-1, -2) / (dims // heads)**0.5).softmax(-1)
    return weights.mean(1)[:, 0]  # [T, N+1]


def test_attention_rows(model_and_clip):
    inferencer, clip = model_and_clip
    model = inferencer.model
    imgs = inferencer.model.data_preprocessor.normalize(clip)  # [C, T, H, W]
    tower = model.backbone.visual
    grid = tuple(tower.grid_size)
    num_patches = grid[0] * grid[1]
    num_frames = clip.shape[1]
    query = compute_attention_maps(model, imgs)
    support = compute_attention_maps(model, imgs, 'a red circle rising')
    # LSTA: patches + cls + GTA token; LMA adds the text token
    assert query['adapted'].shape == (num_frames, num_patches + 2)
    assert query['adapted_keys'] == ['cls', 'gta']
    assert support['adapted'].shape == (num_frames, num_patches + 3)
    assert support['adapted_keys'] == ['cls', 'gta', 'text']
    assert query['frozen'].shape == (num_frames, num_patches + 1)
    for maps in (query, support):
        for name in ('adapted', 'frozen'):
            torch.testing.assert_close(maps[name].sum(-1),
                                       torch.ones(num_frames))
            assert (maps[name] >= 0).all()
    # the text changes the adapted map, never the frozen one
    assert not torch.allclose(query['adapted'][:, :num_patches + 2],
                              support['adapted'][:, :num_patches + 2])
    torch.testing.assert_close(query['frozen'], support['frozen'])
    with torch.no_grad():
        manual = _manual_cls_attention(tower, imgs.transpose(0, 1))
    torch.testing.assert_close(query['frozen'], manual, rtol=1e-4, atol=1e-5)
    assert patch_maps(query['adapted'], grid).shape == (num_frames, *grid)


def test_grid_png_size(model_and_clip, tmp_path):
    _, clip = model_and_clip
    num_frames = clip.shape[1]
    maps = torch.rand(num_frames, 8, 8)
    out = str(tmp_path / 'sub' / 'grid.png')
    size = draw_attention_grid(
        clip.permute(1, 2, 3, 0).numpy(), [('a', maps), ('b', maps)],
        out,
        cell_size=40,
        title_height=10)
    assert size == grid_image_size(num_frames, 40, 10) == \
        (num_frames * 40, 100)
    assert mpimg.imread(out).shape[:2] == (100, num_frames * 40)


def test_fused_attention_is_refused(synthetic_root):
    from mmaction.registry import MODELS
    cfg = small_config(synthetic_root)
    model = MODELS.build(cfg.model).eval()
    assert model.backbone.fused_attn
    clip = torch.zeros(3, cfg.model.backbone.num_frames, 32, 32)
    with pytest.raises(ValueError, match='model.backbone.fused_attn=False'):
        compute_attention_maps(model, clip)
    assert model.backbone.fused_attn  # the model is left as built
