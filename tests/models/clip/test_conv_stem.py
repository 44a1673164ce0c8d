"""The tiny CLIP's convolutional stem (in place of the patch embedding)."""
import pytest
import torch

from mafsar_mm.models.clip import build_open_clip
from mafsar_mm.models.clip.clip_checkpoint import (_vit_shape,
                                                   config_vit_shape)
from mafsar_mm.models.clip.conv_stem import ConvStem

CFG = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=8,
                    head_width=16),
    text_cfg=dict(context_length=8, vocab_size=49408, width=32, heads=2,
                  layers=1))


def test_stem_keeps_the_token_grid():
    stem = ConvStem(48, (8, 16))
    assert stem.patch_size == 8
    assert stem(torch.zeros(2, 3, 64, 64)).shape == (2, 48, 8, 8)


def test_builder_swaps_the_patch_embedding_and_keeps_the_tower():
    torch.manual_seed(0)
    plain = build_open_clip(model_cfg=CFG)
    model = build_open_clip(model_cfg=dict(CFG, conv_stem=[8, 16]))
    assert isinstance(model.visual.conv1, ConvStem)
    assert model.encode_image(torch.zeros(1, 3, 32, 32)).shape == (1, 32)
    # everything after the stem keeps open_clip's names
    assert {k for k in model.state_dict() if not k.startswith(
        'visual.conv1.')} == {k for k in plain.state_dict()
                              if k != 'visual.conv1.weight'}
    # the stem is what reads the pixels: changing it changes the output
    x = torch.randn(1, 3, 32, 32)
    before = model.encode_image(x)
    with torch.no_grad():
        model.visual.conv1.stem[0].weight.mul_(2)
    assert not torch.allclose(before, model.encode_image(x))


def test_wrong_stem_depth_names_the_fix():
    with pytest.raises(ValueError, match=r'conv_stem=\[8\] has total '
                       r'stride 4, the visual tower patch_size 8; give 2 '):
        build_open_clip(model_cfg=dict(CFG, conv_stem=[8]))


def test_a_patch_size_no_stem_reaches_says_so():
    cfg = dict(CFG, conv_stem=[8, 16])
    cfg['vision_cfg'] = dict(CFG['vision_cfg'], image_size=36, patch_size=6)
    with pytest.raises(ValueError, match='patch_size 6 is not a power of '
                       '2 >= 2, which a conv stem needs'):
        build_open_clip(model_cfg=cfg)


def test_state_dict_shape_of_a_stem_tower_matches_its_config():
    model = build_open_clip(model_cfg=dict(CFG, conv_stem=[8, 16]))
    shape = _vit_shape(model.state_dict())
    assert shape == dict(width=32, layers=1, patch=8, conv_stem=2,
                         image=32)
    assert shape == config_vit_shape(CFG['vision_cfg'], [8, 16])
    plain = _vit_shape(build_open_clip(model_cfg=CFG).state_dict())
    assert 'conv_stem' not in plain and plain['patch'] == 8
