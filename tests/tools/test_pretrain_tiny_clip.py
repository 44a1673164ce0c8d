"""tools/pretrain_tiny_clip.py: deterministic, loadable through the same
path as real CLIP weights, skipped when already made."""
import hashlib
import json
import os.path as osp

import torch
from conftest import load_tool

from mafsar_mm.models.clip.open_clip_builder import build_open_clip

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
tool = load_tool('tools/pretrain_tiny_clip.py', 'pretrain_tiny_clip')

SMALL = ['--steps', '3', '--batch-size', '8', '--num-images', '40',
         '--warmup', '1', '--log-interval', '1', '--val-images', '100']


def test_deterministic_loadable_and_skipped(tmp_path, capsys):
    a, b = str(tmp_path / 'a.pt'), str(tmp_path / 'b.pt')
    assert tool.main(['--out', a] + SMALL) == 0
    assert tool.main(['--out', b] + SMALL) == 0
    sd_a = torch.load(a, weights_only=True)
    sd_b = torch.load(b, weights_only=True)
    assert sd_a.keys() == sd_b.keys()
    assert all(torch.equal(sd_a[k], sd_b[k]) for k in sd_a)
    with open(a + '.json') as f:
        meta = json.load(f)
    assert meta['settings']['steps'] == 3
    # measured on stills of the held-out style family and, for reference,
    # of the pretraining families
    assert set(meta['metrics']) == {'held-out styles', 'pretraining styles',
                                    'train_seconds'}
    for name in ('held-out styles', 'pretraining styles'):
        assert set(meta['metrics'][name]) == {
            'retrieval_top1_of_100', 'zero_shot_colour', 'zero_shot_shape'}
    assert meta['settings']['held_out_styles'] == ['checkers']
    # the project's CLIP builder loads it like any open_clip checkpoint
    cfg = tool.Config.fromfile(tool.DEFAULT_CONFIG).clip_tiny.model_cfg
    model = build_open_clip(model_cfg=cfg.to_dict(), pretrained=a)
    assert torch.equal(model.visual.proj, sd_a['visual.proj'])
    random = build_open_clip(model_cfg=cfg.to_dict())
    assert not torch.equal(random.visual.proj, sd_a['visual.proj'])
    # same settings: nothing to do; other settings: trained again
    capsys.readouterr()
    assert tool.main(['--out', a] + SMALL) == 0
    assert 'skipping' in capsys.readouterr().out
    other = SMALL[:]
    other[1] = '2'
    assert tool.main(['--out', a] + other) == 0
    assert 'other settings' in capsys.readouterr().out
    assert not torch.equal(
        torch.load(a, weights_only=True)['visual.proj'], sd_a['visual.proj'])


def test_lr_schedule():
    args = tool.parse_args(['--steps', '10', '--warmup', '2', '--lr', '1.0'])
    lrs = [tool.lr_at(s, args) for s in range(10)]
    assert lrs[:3] == [0.5, 1.0, 1.0]
    assert all(a > b for a, b in zip(lrs[2:], lrs[3:]))
    assert lrs[-1] < 0.05


def test_loss_is_clip_loss_for_distinct_captions_and_pools_repeats():
    from open_clip.loss import ClipLoss
    torch.manual_seed(0)
    img = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    txt = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    scale = torch.tensor(10.)
    tokens = torch.arange(6)[:, None].repeat(1, 4)  # six distinct captions
    ours = tool.caption_contrastive_loss(img, txt, scale, tokens)
    assert torch.allclose(ours, ClipLoss()(img, txt, scale), atol=1e-6)
    # rows 0 and 1 share a caption: matching 0 to text 1 is no longer
    # penalised, so the loss drops when the two texts are swapped
    tokens[1] = tokens[0]
    swapped = txt[[1, 0, 2, 3, 4, 5]]
    same = tool.caption_contrastive_loss(img, txt, scale, tokens)
    assert torch.allclose(
        same, tool.caption_contrastive_loss(img, swapped, scale, tokens))
    assert not torch.allclose(ClipLoss()(img, txt, scale),
                              ClipLoss()(img, swapped, scale))


def test_shipped_tiny_clip_is_the_tools_default_output():
    """The tracked ``data/pretrained/clip_tiny.pt`` is what the tool makes
    with its defaults (so the quickstart skips pretraining instead of
    spending 10 minutes on it), its record's hash is the file's, and the
    synthetic configs' CLIP loads it."""
    path = osp.join(REPO, 'data', 'pretrained', 'clip_tiny.pt')
    with open(path + '.json') as f:
        meta = json.load(f)
    args = tool.parse_args([])
    assert args.out == 'data/pretrained/clip_tiny.pt'
    cfg = tool.Config.fromfile(tool.DEFAULT_CONFIG).clip_tiny
    assert cfg.pretrained == args.out
    defaults = tool.settings_of(args, cfg.model_cfg.to_dict())
    assert meta['settings'] == json.loads(json.dumps(defaults))
    with open(path, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == meta['sha256']
    # issue 21's bar for the held-out style family
    held_out = meta['metrics']['held-out styles']
    assert held_out['zero_shot_shape'] >= 60
    model = build_open_clip(model_cfg=cfg.model_cfg.to_dict(),
                            pretrained=path)
    sd = torch.load(path, weights_only=True)
    assert torch.equal(model.visual.proj, sd['visual.proj'])
