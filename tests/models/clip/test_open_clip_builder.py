import argparse
import socket
import time

import open_clip
import pytest
import torch

from mafsar_mm.models.clip import (TINY_CLIP_CFG, CLIPCheckpointError,
                                   CLIPWeightsNotFoundError, build_open_clip,
                                   check_clip_weights, tokenize)
from mafsar_mm.models.clip.clip_checkpoint import describe_state_dict
from mafsar_mm.models.clip.open_clip_builder import _resolve_pretrained


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
    assert '--clip-weights PATH' in msg and '\n' not in msg
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
    assert msg.startswith("CLIP weights 'openai' of ViT-B-32 are not "
                          'available: offline mode (HF_HUB_OFFLINE)')
    assert '--clip-weights PATH' in msg and '\n' not in msg
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


def test_unreachable_hub_fails_at_once(monkeypatch, tmp_path):
    """No network, no cache, no offline switch: one probe of the hub,
    no download (whose retries took 55 s) and an error naming the
    option."""
    for var in ('HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HTTPS_PROXY',
                'https_proxy', 'ALL_PROXY', 'all_proxy'):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr('huggingface_hub.constants.HF_HUB_OFFLINE', False)
    monkeypatch.setenv('HF_HUB_CACHE', str(tmp_path / 'hub'))
    probed = []

    def no_route(address, *args, **kwargs):
        probed.append(address)
        raise socket.gaierror(-2, 'Name or service not known')

    def no_download(*args, **kwargs):
        raise AssertionError('download attempted')

    monkeypatch.setattr(socket, 'create_connection', no_route)
    monkeypatch.setattr(
        'mafsar_mm.models.clip.clip_weights.download_pretrained', no_download)
    start = time.monotonic()
    with pytest.raises(CLIPWeightsNotFoundError) as info:
        check_clip_weights(
            model_name='ViT-B-16',
            pretrained='openai',
            cache_dir=str(tmp_path / 'cache'))
    assert time.monotonic() - start < 5
    assert probed == [('huggingface.co', 443)]
    msg = str(info.value)
    assert 'huggingface.co cannot be reached' in msg
    assert '--clip-weights PATH' in msg


def test_check_clip_weights_before_building(tmp_path, no_network):
    check_clip_weights(model_name='ViT-B-32', pretrained=None)
    with pytest.raises(CLIPWeightsNotFoundError, match='--clip-weights'):
        check_clip_weights(
            model_cfg=TINY_CLIP_CFG, pretrained=str(tmp_path / 'x.pt'))
    path = tmp_path / 'tiny.pt'
    torch.save(build_open_clip(model_cfg=TINY_CLIP_CFG).state_dict(), path)
    check_clip_weights(model_cfg=TINY_CLIP_CFG, pretrained=str(path))
    (tmp_path / 'notes.pt').write_text('not weights\n')
    with pytest.raises(CLIPCheckpointError, match='is a text file'):
        check_clip_weights(
            model_name='ViT-B-32', pretrained=str(tmp_path / 'notes.pt'))


TINY_128 = dict(
    TINY_CLIP_CFG,
    embed_dim=128,
    vision_cfg=dict(
        image_size=64, layers=4, width=128, patch_size=8, head_width=32))


@pytest.mark.parametrize('content,expected', [
    (b'', "is empty (0 bytes); expected a torch checkpoint"),
    (b'<html>404 Not Found</html>\n',
     "is a text file (it starts with '<html>404 Not Found</html>')"),
    (b'\x00\x01\x02\x03garbage', 'is not a torch checkpoint (first bytes '
     '00 01 02 03'),
])
def test_not_a_checkpoint_is_one_line(tmp_path, content, expected):
    path = tmp_path / 'ViT-B-32.pt'
    path.write_bytes(content)
    with pytest.raises(CLIPCheckpointError) as info:
        build_open_clip(model_cfg=TINY_CLIP_CFG, pretrained=str(path))
    msg = str(info.value)
    assert expected in msg and '\n' not in msg
    assert 'weights_only' not in msg


def test_pickled_objects_are_refused_without_unsafe_advice(tmp_path):
    path = tmp_path / 'objects.pt'
    torch.save({'args': argparse.Namespace(lr=1)}, path)
    with pytest.raises(CLIPCheckpointError) as info:
        build_open_clip(model_cfg=TINY_CLIP_CFG, pretrained=str(path))
    msg = str(info.value)
    assert 'holds pickled Python objects besides tensors' in msg
    assert 'argparse.Namespace' in msg
    assert 'weights_only=False' not in msg and '\n' not in msg


def test_other_architecture_says_both(tmp_path):
    path = tmp_path / 'tiny64.pt'
    torch.save(build_open_clip(model_cfg=TINY_CLIP_CFG).state_dict(), path)
    # before building (memory-mapped look) and when loading: one message
    with pytest.raises(CLIPCheckpointError) as early:
        check_clip_weights(model_cfg=TINY_128, pretrained=str(path))
    with pytest.raises(CLIPCheckpointError) as info:
        build_open_clip(model_cfg=TINY_128, pretrained=str(path))
    assert str(info.value) == (
        f"CLIP weights file '{path}' holds a CLIP ViT state dict (visual "
        'width 64, 2 layers, patch 16, 64 px), the config builds the custom '
        'CLIP of model_cfg (visual width 128, 4 layers, patch 8, 64 px); '
        'give the weights of that architecture (--clip-weights PATH) or '
        'change clip.model_name / clip.model_cfg.')
    assert str(early.value) == str(info.value)
    # an MMEngine training checkpoint given as CLIP weights
    torch.save({'meta': {}, 'state_dict': {'backbone.x': torch.zeros(1)}},
               path)
    with pytest.raises(CLIPCheckpointError,
                       match='holds an MMEngine training checkpoint, not '
                       'CLIP weights'):
        build_open_clip(model_cfg=TINY_128, pretrained=str(path))


def test_named_architecture_of_a_state_dict():
    state = open_clip.create_model('ViT-B-32').state_dict()
    text, shape = describe_state_dict(state)
    assert text == ('a ViT-B-32 state dict (visual width 768, 12 layers, '
                    'patch 32, 224 px)')
    assert shape == dict(width=768, layers=12, patch=32, image=224)
