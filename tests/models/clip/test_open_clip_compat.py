"""The open_clip pin and the error for towers of other open_clip
versions."""
import os.path as osp
import re

import open_clip
import pytest
from torch import nn

from mafsar_mm.models.backbones import CLIPViTFgMA
from mafsar_mm.models.backbones import clip_vit_fgma as fgma_module
from mafsar_mm.models.clip import (SUPPORTED_OPEN_CLIP, TINY_CLIP_CFG,
                                   UnsupportedOpenCLIPError, build_clip_visual,
                                   check_open_clip_tower)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))


class _OtherAttention(nn.Module):
    """Stands in for an attention module of another open_clip version."""

    def forward(self, x):
        return x


def test_requirement_pins_the_supported_range():
    with open(osp.join(REPO, 'requirements', 'runtime.txt')) as f:
        pins = [line.strip() for line in f if line.startswith('open_clip')]
    assert pins == [f'open_clip_torch{SUPPORTED_OPEN_CLIP}']
    low, high = re.fullmatch(r'>=([\d.]+),<([\d.]+)',
                             SUPPORTED_OPEN_CLIP).groups()
    installed = tuple(int(v) for v in open_clip.__version__.split('.')[:2])
    assert tuple(int(v) for v in low.split('.')) <= installed
    assert installed < tuple(int(v) for v in high.split('.'))


def test_expected_tower_passes():
    check_open_clip_tower(
        build_clip_visual(dict(model_cfg=TINY_CLIP_CFG)), 'CLIPViTFgMA')


def test_other_attention_names_the_supported_range(monkeypatch):

    def build_other(clip):
        visual = build_clip_visual(clip)
        visual.transformer.resblocks[1].attn = _OtherAttention()
        return visual

    monkeypatch.setattr(fgma_module, 'build_clip_visual', build_other)
    with pytest.raises(UnsupportedOpenCLIPError) as info:
        CLIPViTFgMA(clip=dict(model_cfg=TINY_CLIP_CFG))
    message = str(info.value)
    assert f'open_clip_torch{SUPPORTED_OPEN_CLIP}' in message
    assert f'open_clip_torch {open_clip.__version__}' in message
    assert 'block 1.attn is _OtherAttention, not nn.MultiheadAttention' \
        in message
    assert message.count('\n') == 0


def test_missing_private_methods_are_listed():
    visual = build_clip_visual(dict(model_cfg=TINY_CLIP_CFG))
    visual._pool = None
    visual.transformer.resblocks = nn.ModuleList()
    with pytest.raises(
            UnsupportedOpenCLIPError,
            match='no VisionTransformer._pool; no transformer'):
        check_open_clip_tower(visual, 'X')
