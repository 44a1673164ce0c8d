"""One key for the CLIP weights: --clip-weights, clip.* options that reach
the model, and the check before anything is built."""
import os.path as osp
import socket

import pytest
import torch
from mmengine.config import Config

from mafsar_mm.models.clip import (CLIPCheckpointError,
                                   CLIPWeightsNotFoundError, build_open_clip)
from mafsar_mm.models.clip.clip_config import (check_config_clip_weights,
                                               find_clip_dicts,
                                               merge_cfg_options,
                                               set_clip_weights)
from mafsar_mm.utils.errors import InputError

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
HEADLINE = osp.join(REPO, 'configs', 'mafsar_ssv2_5w1s.py')
TINY = osp.join(REPO, 'configs', 'mafsar', 'mafsar_vit-tiny_5w1s_synthetic.py')
MODEL_CLIPS = ['model.backbone.clip', 'model.text_encoder.clip']


def _pretrained(cfg):
    return {
        name: clip.get('pretrained')
        for name, clip in find_clip_dicts(cfg.model)
    }


def test_top_level_clip_option_reaches_the_model():
    cfg = Config.fromfile(HEADLINE)
    assert _pretrained(cfg) == dict.fromkeys(MODEL_CLIPS, 'openai')
    # plain MMEngine: the copies keep 'openai' (the reported bug)
    plain = Config.fromfile(HEADLINE)
    plain.merge_from_dict({'clip.pretrained': None})
    assert _pretrained(plain) == dict.fromkeys(MODEL_CLIPS, 'openai')
    merge_cfg_options(cfg, {'clip.pretrained': None})
    assert _pretrained(cfg) == dict.fromkeys(MODEL_CLIPS, None)
    assert cfg.clip.pretrained is None
    # an explicit model key wins over the top-level one
    cfg = Config.fromfile(TINY)
    merge_cfg_options(cfg, {
        'clip.pretrained': 'a.pt',
        'model.text_encoder.clip.pretrained': 'b.pt'
    })
    assert _pretrained(cfg) == {
        'model.backbone.clip': 'a.pt',
        'model.text_encoder.clip': 'b.pt'
    }


def test_clip_option_without_a_copied_top_level_clip_is_refused():
    cfg = Config.fromfile(TINY)
    cfg.model.backbone.clip.pretrained = 'other.pt'
    cfg.model.text_encoder.clip.pretrained = 'other.pt'
    with pytest.raises(InputError) as info:
        merge_cfg_options(cfg, {'clip.pretrained': None})
    assert str(info.value) == (
        '--cfg-options clip.pretrained: this config has no top-level `clip` '
        'that its model copies; give the weights file with --clip-weights '
        'PATH, or set the model keys (model.backbone.clip, '
        'model.text_encoder.clip) directly.')


def test_clip_weights_sets_every_clip(tmp_path):
    path = str(tmp_path / 'ViT-B-16.bin')
    open(path, 'wb').close()
    cfg = Config.fromfile(HEADLINE)
    assert set_clip_weights(cfg, path) == MODEL_CLIPS
    assert _pretrained(cfg) == dict.fromkeys(MODEL_CLIPS, path)
    # the config meant OpenAI's weights, which need QuickGELU: kept
    for _, clip in find_clip_dicts(cfg.model):
        assert clip.quick_gelu is True
    cfg = Config.fromfile(TINY)  # a custom CLIP: nothing to keep
    set_clip_weights(cfg, path)
    for _, clip in find_clip_dicts(cfg.model):
        assert 'quick_gelu' not in clip and clip.pretrained == path
    with pytest.raises(
            InputError, match=r'^--clip-weights /no/such\.pt: no such file'):
        set_clip_weights(cfg, '/no/such.pt')


def test_offline_headline_fails_before_building(monkeypatch, tmp_path):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_HUB_CACHE', str(tmp_path / 'hub'))
    monkeypatch.setenv('HOME', str(tmp_path))  # no ~/.cache/clip

    def refuse(*args, **kwargs):
        raise AssertionError('network access attempted')

    monkeypatch.setattr(socket, 'create_connection', refuse)
    cfg = Config.fromfile(HEADLINE)
    with pytest.raises(CLIPWeightsNotFoundError) as info:
        check_config_clip_weights(cfg)
    msg = str(info.value)
    assert msg.startswith("model.backbone.clip: CLIP weights 'openai' of "
                          'ViT-B-16 are not available: offline mode')
    assert '--clip-weights PATH' in msg and '\n' not in msg
    # a local file that holds no CLIP: refused before building anything
    path = tmp_path / 'ViT-B-16.pt'
    torch.save({}, path)
    set_clip_weights(cfg, str(path))
    with pytest.raises(CLIPCheckpointError) as info:
        check_config_clip_weights(cfg)
    assert str(info.value) == (
        f"model.backbone.clip: CLIP weights file '{path}' holds a state "
        'dict without a CLIP visual tower (first keys: none), the config '
        'builds ViT-B-16 (visual width 768, 12 layers, patch 16, 224 px); '
        'give the weights of that architecture (--clip-weights PATH) or '
        'change clip.model_name / clip.model_cfg.')


def test_tiny_clip_weights_pass_the_check(tmp_path):
    cfg = Config.fromfile(TINY)
    clip = cfg.model.backbone.clip
    path = str(tmp_path / 'tiny.pt')
    torch.save(build_open_clip(model_cfg=clip.model_cfg).state_dict(), path)
    set_clip_weights(cfg, path)
    check_config_clip_weights(cfg)
