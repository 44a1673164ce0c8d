"""The Table 4 reading of MA-FSAR's parameters: the backbone options it
uses (low-rank Text FCs, the joint adapters' own ratio) and the rows that
tools/analysis/count_params.py prints for its config."""
import os.path as osp
import sys
from unittest import mock

import pytest
import torch
from conftest import load_tool
from mmengine.config import Config

import mafsar_mm  # noqa: F401
from mafsar_mm.models.backbones import CLIPViTFgMA
from mafsar_mm.models.clip import TINY_CLIP_CFG

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TABLE4_CONFIG = osp.join(ROOT, 'configs', 'mafsar',
                         'mafsar_vit-b32_5w1s_ssv2-small_table4.py')


def load_count_params():
    return load_tool('tools/analysis/count_params.py', 'count_params_t4')


# the Table 4 code lives in the tool (not in the package: it reads
# backbone attributes and the paper's numbers)
_tool = load_count_params()
TABLE4_PAPER = _tool.TABLE4_PAPER
format_table4 = _tool.format_table4
table4_split = _tool.table4_split


def tiny(**kwargs):
    torch.manual_seed(0)
    return CLIPViTFgMA(clip=dict(model_cfg=TINY_CLIP_CFG), **kwargs)


def test_low_rank_text_fc_and_joint_ratio_sizes():
    base = tiny()
    width, text_dim = base.embed_dims, base.text_dim
    model = tiny(text_fc_rank=5, joint_ratio=0.5)
    fc = model.text_fcs['0']
    assert [tuple(m.weight.shape) for m in fc] == [(5, text_dim),
                                                   (width, 5)]
    assert model.j_adapters['0'].hidden_channels == int(width * 0.5)
    assert model.m_adapters['0'].hidden_channels == int(width * 0.25)
    shared = tiny(text_fc='shared', text_fc_rank=5)
    assert shared.text_fcs is None and len(shared.text_fc) == 2
    # still an identity at init (zero up-projections), and text still
    # reaches the support features through the low-rank Text FC
    imgs = torch.randn(2, 3, 4, 64, 64)
    text = torch.randn(2, text_dim)
    with torch.no_grad():
        assert torch.allclose(model(imgs), base(imgs), atol=1e-5)
        for adapter in model.m_adapters.values():
            torch.nn.init.normal_(adapter.fc2.weight, std=0.02)
        assert not torch.allclose(model(imgs, text), model(imgs), atol=1e-4)


@pytest.mark.parametrize('kwargs, message', [
    (dict(text_fc_rank=0), 'text_fc_rank must be a positive int'),
    (dict(joint_ratio=0.0), 'joint_ratio must be > 0'),
])
def test_bad_table4_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny(**kwargs)


def test_count_params_prints_every_table4_row_within_0_05m(capsys):
    """Paper Table 4 (ViT-B/32): temporal adaptation 7.10 M, multimodal
    adaptation 4.79 M, joint adaptation 3.50 M, TPCM 3.15 M, total
    18.54 M."""
    tool = load_count_params()
    with mock.patch.object(sys, 'argv',
                           ['count_params.py', TABLE4_CONFIG, '--depth',
                            '1']):
        tool.main()  # random init: nothing is downloaded
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in TABLE4_PAPER:
            rows[parts[0]] = int(parts[1].replace(',', ''))
    # the learnable temporal position embedding (T x D) counts as
    # temporal adaptation when the config turns it on
    pos = 8 * 768 if Config.fromfile(
        TABLE4_CONFIG).model.backbone.get('temporal_pos_embed') else 0
    expected = dict(
        temporal_adaptation=2 * 12 * 295872 + pos,  # GTA + LSTA adapters
        multimodal_adaptation=12 * 295872 + 12 * (512 * 80 + 80 +
                                                  80 * 768 + 768),
        joint_adaptation=12 * (768 * 189 + 189 + 189 * 768 + 768),
        tpcm=3152384)
    expected['total'] = sum(expected.values())
    assert rows == expected
    for key, value in rows.items():
        assert abs(value / 1e6 - TABLE4_PAPER[key]) <= 0.05, key
    for key in ('multimodal_adaptation', 'joint_adaptation', 'tpcm',
                'total'):
        assert round(rows[key] / 1e6, 2) == TABLE4_PAPER[key], key
    assert out.count('  yes') == 5


def test_table4_split_of_the_default_reading():
    """The default backbone (shared LMA/LSTA, full Text FCs) has the
    paper's total but not its rows."""
    from mafsar_mm.models.necks import TPCM
    backbone = CLIPViTFgMA(clip=dict(model_name='ViT-B-32'))
    rows = table4_split(backbone, TPCM(in_channels=512))
    assert rows == dict(
        temporal_adaptation=3550464,
        multimodal_adaptation=3550464 + 12 * (512 * 768 + 768),
        joint_adaptation=3550464,
        tpcm=3152384,
        total=18531584)
    table = format_table4(rows)
    assert table.count('NO') == 3 and table.count('yes') == 2
