"""Slim checkpoint size of the ViT-B/32 MA-FSAR config (built with
pretrained=None: no download), written through SlimCheckpointHook."""
import io
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import weights_to_cpu

import mafsar_mm  # noqa: F401
from mafsar_mm.engine import SlimCheckpointHook, load_into_model

pytestmark = pytest.mark.slow

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'mafsar', 'mafsar_vit-b32_5w1s_ssv2-small.py')
MB = 2**20


def _serialize(obj) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer


def test_vit_b32_slim_checkpoint_size_and_reload():
    cfg = Config.fromfile(CONFIG)
    for part in ('backbone', 'text_encoder'):
        cfg.model[part].clip.pretrained = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    tuned = [p for p in model.parameters() if p.requires_grad]
    frozen_bytes = sum(p.numel() * p.element_size()
                       for p in model.parameters() if not p.requires_grad)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for param in tuned:  # create AdamW's moments, as after a step
        param.grad = torch.zeros_like(param)
    optimizer.step()
    # what Runner.save_checkpoint builds, then hands to the hooks
    checkpoint = dict(
        meta=dict(iter=1000, seed=0),
        state_dict=weights_to_cpu(model.state_dict()),
        message_hub=MessageHub('vit_b32_size').state_dict(),
        optimizer=optimizer.state_dict())
    runner = SimpleNamespace(cfg=cfg, model=model)
    SlimCheckpointHook(slim=True).before_save_checkpoint(runner, checkpoint)
    saved = _serialize(checkpoint)
    resumable = saved.tell()
    model_only = _serialize({
        k: v
        for k, v in checkpoint.items() if k != 'optimizer'
    }).tell()
    print(f'\nViT-B/32 MA-FSAR: {sum(p.numel() for p in tuned) / 1e6:.1f}M '
          f'tuned params; slim checkpoint {model_only / MB:.1f} MiB '
          f'(weights), {resumable / MB:.1f} MiB (with AdamW state); the '
          f'frozen CLIP left out is {frozen_bytes / MB:.1f} MiB')
    assert model_only < 100 * MB
    # nothing but the tuned weights (and AdamW's two moments per weight)
    tuned_bytes = sum(p.numel() * p.element_size() for p in tuned)
    assert model_only < tuned_bytes + MB
    assert resumable < 3 * tuned_bytes + MB

    # loading it back: tuned weights from the file, CLIP from the model
    expected = {
        k: v.detach().clone()
        for k, v in model.named_parameters() if v.requires_grad
    }
    with torch.no_grad():
        for param in tuned:
            param.zero_()
    saved.seek(0)
    checkpoint = torch.load(saved, weights_only=True)
    filled = load_into_model(checkpoint, model)
    assert len(filled) == len(checkpoint['meta']['slim_info']['dropped_keys'])
    model.load_state_dict(checkpoint['state_dict'])
    for key, value in model.named_parameters():
        if key in expected:
            assert torch.equal(value, expected[key]), key
    optimizer.load_state_dict(checkpoint['optimizer'])
