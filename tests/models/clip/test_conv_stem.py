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
        model.visual.conv1.stem[0][0].weight.mul_(2)
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
                         stem_blocks=0, image=32)
    assert shape == config_vit_shape(CFG['vision_cfg'], [8, 16])
    plain = _vit_shape(build_open_clip(model_cfg=CFG).state_dict())
    assert 'conv_stem' not in plain and plain['patch'] == 8


STEM = dict(channels=[8, 16], blocks=2, norm='bn')


def test_residual_stem_keeps_the_grid_and_reads_its_shape():
    stem = ConvStem(48, (8, 16), blocks=2, norm='bn')
    assert stem.patch_size == 8
    assert stem(torch.zeros(2, 3, 64, 64)).shape == (2, 48, 8, 8)
    # 2 stages x (down conv + BN + 2 residual convs with BN) + projection
    convs = [m for m in stem.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2 * 3 + 1
    assert convs[0].bias is None and convs[-1].bias is not None
    model = build_open_clip(model_cfg=dict(CFG, conv_stem=STEM))
    shape = _vit_shape(model.state_dict())
    assert shape['conv_stem'] == 2 and shape['stem_blocks'] == 2
    assert shape == config_vit_shape(CFG['vision_cfg'], STEM)


def test_residual_blocks_are_residual():
    torch.manual_seed(0)
    stem = ConvStem(16, (8, ), blocks=1, norm='bn').eval()
    block = stem.stem[0][3]
    x = torch.randn(1, 8, 4, 4)
    with torch.no_grad():
        block.body[0].weight.zero_()
        block.body[1].bias.zero_()
    assert torch.equal(block(x), x)  # GELU(BN(0)) = 0 in eval mode


def test_a_stem_with_other_blocks_is_another_architecture():
    model = build_open_clip(model_cfg=dict(CFG, conv_stem=STEM))
    plain = dict(CFG, conv_stem=[8, 16])
    assert _vit_shape(model.state_dict()) != config_vit_shape(
        plain['vision_cfg'], plain['conv_stem'])


@pytest.mark.parametrize('bad, match', [
    (dict(channels=[8, 16], norm='ln'), r"norm 'ln' is not supported; "
     r"supported: \[None, 'bn'\]"),
    (dict(channels=[8, 16], depth=2), 'expected a list of channels'),
])
def test_bad_stem_options_list_what_is_allowed(bad, match):
    with pytest.raises(ValueError, match=match):
        build_open_clip(model_cfg=dict(CFG, conv_stem=bad))
