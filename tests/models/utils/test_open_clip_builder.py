import socket

import open_clip
import pytest
import torch

from mafsar_mm.models.utils import (TINY_CLIP_CFG, CLIPWeightsNotFoundError,
                                    build_open_clip, tokenize)
from mafsar_mm.models.utils.open_clip_builder import _resolve_pretrained


@pytest.fixture
def no_network(monkeypatch):
    """Fail loudly if anything tries to open a connection."""

    def refuse(*args, **kwargs):
        raise AssertionError('network access attempted')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)


def test_custom_model_random_init():
    model = build_open_clip(model_cfg=TINY_CLIP_CFG)
    assert isinstance(model, open_clip.CLIP)
    assert not model.training
    assert model.visual.output_dim == 64
    assert model.visual.transformer.width == 64
    assert not any(
        isinstance(m, open_clip.transformer.QuickGELU)
        for m in model.modules())
    images = torch.randn(2, 3, 64, 64)
    assert model.encode_image(images).shape == (2, 64)


def test_argument_errors():
    with pytest.raises(ValueError, match='exactly one'):
        build_open_clip()
    with pytest.raises(ValueError, match='exactly one'):
        build_open_clip(model_name='ViT-B-32', model_cfg=TINY_CLIP_CFG)
    with pytest.raises(ValueError, match='Unknown open_clip model'):
        build_open_clip(model_name='ViT-Z-99')


def test_local_state_dict_file(tmp_path):
    torch.manual_seed(1)
    ref = build_open_clip(model_cfg=TINY_CLIP_CFG)
    path = str(tmp_path / 'tiny.pt')
    torch.save(ref.state_dict(), path)
    model = build_open_clip(model_cfg=TINY_CLIP_CFG, pretrained=path)
    for key, value in ref.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key


def test_openai_torchscript_file_gets_quick_gelu(tmp_path):
    torch.manual_seed(2)
    ref = open_clip.CLIP(**TINY_CLIP_CFG, quick_gelu=True).eval()
    path = str(tmp_path / 'ViT-tiny.pt')
    torch.jit.script(ref).save(path)
    model = build_open_clip(model_cfg=TINY_CLIP_CFG, pretrained=path)
    assert any(
        isinstance(m, open_clip.transformer.QuickGELU)
        for m in model.modules())
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(
            model.encode_image(images), ref.encode_image(images), atol=1e-6)


def test_missing_local_file_is_one_clear_error(no_network):
    with pytest.raises(CLIPWeightsNotFoundError) as info:
        build_open_clip(
            model_name='ViT-B-32', pretrained='/nonexistent/ViT-B-32.pt')
    msg = str(info.value)
    assert 'ViT-B-32' in msg and '/nonexistent/ViT-B-32.pt' in msg
    assert "pretrained='/path/to/ViT-B-32.pt'" in msg
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(CLIPWeightsNotFoundError, match='does not exist'):
        build_open_clip(
            model_cfg=TINY_CLIP_CFG, pretrained='/nonexistent/tiny.pt')


def test_offline_tag_is_one_clear_error(monkeypatch, tmp_path, no_network):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_HUB_CACHE', str(tmp_path / 'hub'))
    with pytest.raises(CLIPWeightsNotFoundError) as info:
        build_open_clip(
            model_name='ViT-B-32',
            pretrained='openai',
            cache_dir=str(tmp_path / 'cache'))
    msg = str(info.value)
    assert "'ViT-B-32'" in msg and "pretrained='openai'" in msg
    assert 'offline' in msg
    assert "pretrained='/path/to/ViT-B-32.pt'" in msg
    assert 'timm/vit_base_patch32_clip_224.openai' in msg
    # one error, no chained hub traceback
    assert info.value.__cause__ is None


def test_offline_tag_found_in_url_cache(monkeypatch, tmp_path, no_network):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    cache = tmp_path / 'cache'
    cache.mkdir()
    (cache / 'ViT-B-32.pt').write_bytes(b'not a real checkpoint')
    path, quick_gelu = _resolve_pretrained('ViT-B-32', 'openai', str(cache))
    assert path == str(cache / 'ViT-B-32.pt')
    assert quick_gelu  # OpenAI weights need QuickGELU


def test_unknown_tag(no_network):
    with pytest.raises(CLIPWeightsNotFoundError, match='known open_clip'):
        build_open_clip(model_name='ViT-B-32', pretrained='no-such-tag')


def test_tokenize():
    named = tokenize('ViT-B-32', ['a photo of jumping', 'x'])
    custom = tokenize(None, 'a photo of jumping')
    assert named.shape == (2, 77) and custom.shape == (1, 77)
    assert torch.equal(named[:1], custom)
    assert torch.equal(custom, open_clip.tokenize(['a photo of jumping']))
    assert tokenize(None, ['a'], context_length=16).shape == (1, 16)
