"""What both CLIP visual backbones get from BaseCLIPTower: one input
check, the frame fold, freezing and the eval mode of a frozen tower."""
import pytest
import torch

from mafsar_mm.models.backbones import BaseCLIPTower, CLIPViTFgMA, CLIPVisual
from mafsar_mm.models.clip import TINY_CLIP_CFG

CLIP = dict(model_cfg=TINY_CLIP_CFG)


@pytest.fixture(scope='module', params=['CLIPVisual', 'CLIPViTFgMA'])
def tower(request):
    torch.manual_seed(0)
    cls = dict(CLIPVisual=CLIPVisual, CLIPViTFgMA=CLIPViTFgMA)[request.param]
    return cls(clip=CLIP, frozen=True)


def test_towers_share_the_base(tower):
    assert isinstance(tower, BaseCLIPTower)
    assert not any(p.requires_grad for p in tower.visual.parameters())
    tower.train()
    assert tower.training and not tower.visual.training
    tower.eval()


def test_bad_video_shape_is_one_message(tower):
    with pytest.raises(ValueError,
                       match=r'imgs must be \[V, C, T, H, W\], got shape '
                       r'\(3, 64, 64\)'):
        tower(torch.zeros(3, 64, 64))


def test_frames_are_folded_video_major(tower):
    # each video's features only depend on its own frames, in order
    g = torch.Generator().manual_seed(0)
    imgs = torch.randn(2, 3, 3, 64, 64, generator=g)
    with torch.no_grad():
        both = tower(imgs)
        first = tower(imgs[:1])
    assert both.shape == (2, 3, tower.output_dim)
    torch.testing.assert_close(both[:1], first, atol=1e-5, rtol=1e-5)


def test_an_unfrozen_tower_trains():
    torch.manual_seed(0)
    tower = CLIPVisual(clip=CLIP, frozen=False).train()
    assert tower.visual.training
    assert all(p.requires_grad for p in tower.visual.parameters())
