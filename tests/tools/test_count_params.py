"""tools/analysis/count_params.py: counts, the MA-FSAR budget, and the
Table 4 comparison printed only where it applies."""
import os.path as osp
import sys

from conftest import load_tool
from torch import nn

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


tool = load_tool('tools/analysis/count_params.py')
count_parameters = tool.count_parameters
format_parameter_table = tool.format_parameter_table
mafsar_budget = tool.mafsar_budget


def test_count_parameters_rows():
    model = nn.Sequential()
    model.add_module('frozen', nn.Linear(4, 4))
    model.add_module('block', nn.Sequential(nn.Linear(4, 2), nn.ReLU()))
    model.add_module('shared', model.frozen)  # counted once
    for p in model.frozen.parameters():
        p.requires_grad_(False)
    rows = count_parameters(model, depth=2)
    assert rows[0] == dict(
        name='total', depth=0, total=30, tunable=10, frozen=20)
    names = [r['name'] for r in rows]
    assert names == ['total', 'frozen', 'block', 'block.0']
    assert [r['name'] for r in count_parameters(model, 1)] == names[:3]
    table = format_parameter_table(rows)
    assert 'block.0' in table and 'tunable' in table


def test_mafsar_vit_b32_budget_matches_the_paper():
    """Paper Table 4 (ViT-B/32): adapters + Text FC ~15.4 M, 18.54 M
    tunable with TPCM, 151.3 M frozen, full fine-tuning 90.99 M."""
    budget = mafsar_budget('ViT-B-32')
    assert budget['adapters'] == 12 * 3 * 295872
    assert budget['text_fc'] == 12 * (512 * 768 + 768)
    assert abs(budget['adapters_text_fc'] - 15.4e6) < 0.05e6
    assert budget['tpcm'] == 3152384
    assert abs(budget['tunable_total'] - 18.54e6) < 0.05e6
    assert abs(budget['frozen_total'] - 151.3e6) < 0.05e6
    assert 88e6 < budget['full_visual_ft'] < 91.5e6
    assert abs(budget['full_visual_ft'] - 90.99e6) < 0.05e6


def test_strip_pretrained():
    cfg = dict(
        backbone=dict(clip=dict(model_name='ViT-B-32', pretrained='openai')),
        text=[dict(clip=dict(model_cfg={}, pretrained='/x.pt'))],
        head=dict(init_cfg=dict(type='Pretrained', checkpoint='a.pth')),
        other=dict(pretrained='keep'))
    out = tool.strip_pretrained(cfg)
    assert out['backbone']['clip']['pretrained'] is None
    assert out['text'][0]['clip']['pretrained'] is None
    assert out['head']['init_cfg'] is None
    assert out['other']['pretrained'] == 'keep'


def test_tool_on_a_config(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "default_scope = 'mmaction'\n"
        'tiny = dict(embed_dim=64, vision_cfg=dict(image_size=64, '
        'layers=2, width=64, patch_size=16, head_width=32), '
        'text_cfg=dict(context_length=77, vocab_size=49408, width=64, '
        'heads=2, layers=2))\n'
        "model = dict(type='CLIPViTFgMA', clip=dict(model_cfg=tiny, "
        "pretrained='/no/such/file.pt'))\n")
    monkeypatch.setattr(sys, 'argv', ['count_params.py', str(cfg)])
    tool.main()
    out = capsys.readouterr().out
    assert 'total' in out and 't_adapters' in out and 'text_fcs' in out
    assert '21,088' in out  # tunable parameters of the tiny backbone


def _table4_lines(out: str) -> list:
    table = out[out.index('rows of MA-FSAR Table 4'):]
    return [line for line in table.splitlines()
            if line.split() and line.split()[0] in tool.TABLE4_PAPER]


def test_table4_compared_only_for_the_table4_config(monkeypatch, capsys):
    """Another MA-FSAR config prints its rows without the paper's columns
    (no expected 'NO' verdicts); ``--table4`` asks for the comparison."""
    config = osp.join(ROOT, 'configs', 'mafsar',
                      'mafsar_vit-tiny_5w1s_synthetic.py')
    monkeypatch.setattr(sys, 'argv',
                        ['count_params.py', config, '--depth', '1'])
    tool.main()
    out = capsys.readouterr().out
    rows = _table4_lines(out)
    assert len(rows) == 5
    assert all(len(line.split()) == 3 for line in rows)  # row, ours, M
    assert 'NO' not in out and 'paper (M)' not in out
    assert f'compared with the paper for {tool.TABLE4_CONFIG}' in out
    monkeypatch.setattr(sys, 'argv', ['count_params.py', config, '--depth',
                                      '1', '--table4'])
    tool.main()
    out = capsys.readouterr().out
    assert 'paper (M)' in out
    # the tiny CLIP is far from ViT-B/32 in every row
    verdicts = [line.split()[-1] for line in _table4_lines(out)]
    assert verdicts == ['NO'] * 5
