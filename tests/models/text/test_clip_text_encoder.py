import open_clip
import pytest
import torch

from mafsar_mm.models.text import CLIPTextEncoder
from mafsar_mm.models.clip import TINY_CLIP_CFG

NAMES = ['jumping', 'moving something left', 'jumping', 'rolling']


def make(path, **kwargs):
    return CLIPTextEncoder(
        clip=dict(model_cfg=TINY_CLIP_CFG, pretrained=path), **kwargs)


def test_matches_open_clip_encode_text(tiny):
    clip, path = tiny
    encoder = make(path, cache=False)
    with torch.no_grad():
        ref = clip.encode_text(
            open_clip.tokenize([f'a photo of {n}' for n in NAMES]))
    out = encoder(NAMES)
    assert out.shape == (4, 64) and encoder.output_dim == 64
    assert torch.allclose(out, ref, atol=1e-5)
    assert not out.requires_grad
    assert out.device == encoder.device
    # not normalised
    assert not torch.allclose(out.norm(dim=-1), torch.ones(4))


def test_only_text_parts_frozen_and_eval(tiny):
    clip, path = tiny
    encoder = make(path)
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.training and not encoder.transformer.training
    keys = set(encoder.state_dict())
    assert not any(k.startswith('visual.') for k in keys)
    assert 'logit_scale' not in keys
    text_keys = {
        k
        for k in clip.state_dict()
        if not k.startswith('visual.') and k != 'logit_scale'
    }
    assert keys == text_keys


def test_cache_equals_uncached_and_is_not_saved(tiny):
    _, path = tiny
    cached, uncached = make(path), make(path, cache=False)
    first = cached(NAMES[:2])
    again = cached(NAMES)  # partly from the cache
    ref = uncached(NAMES)
    assert torch.allclose(again, ref, atol=1e-6)
    assert torch.equal(again[:2], first)
    assert torch.equal(again[0], again[2])
    assert len(cached._cache) == 3
    assert all(v.device.type == 'cpu' for v in cached._cache.values())
    assert set(cached.state_dict()) == set(uncached.state_dict())


def test_cache_cleared_on_load_state_dict(tiny):
    _, path = tiny
    encoder = make(path)
    before = encoder(NAMES)
    assert encoder._cache
    torch.manual_seed(5)
    other = CLIPTextEncoder(clip=dict(model_cfg=TINY_CLIP_CFG))
    encoder.load_state_dict(other.state_dict())
    assert not encoder._cache
    after = encoder(NAMES)
    assert torch.allclose(after, other(NAMES), atol=1e-6)
    assert not torch.allclose(after, before, atol=1e-3)
    encoder.to(torch.float32)  # moving/casting also clears the cache
    assert not encoder._cache


def test_template_and_errors(tiny):
    _, path = tiny
    encoder = make(path, template='{}', cache=False)
    plain = make(path, cache=False)
    assert not torch.allclose(encoder(['a']), plain(['a']), atol=1e-4)
    with pytest.raises(ValueError, match='template'):
        make(path, template='a photo')


def test_fixed_class_names_free_the_tower(tiny):
    _, path = tiny
    full = make(path, cache=False)
    fixed = make(path, fixed_class_names=NAMES)
    # the same features, without a single weight
    assert list(fixed.parameters()) == [] and fixed.state_dict() == {}
    assert fixed.fixed_class_names == ['jumping', 'moving something left',
                                       'rolling']
    names = ['rolling', 'jumping', 'rolling']
    assert torch.equal(fixed(names), full(names))
    with pytest.raises(ValueError, match=r"\['walking'\] are not among"):
        fixed(['jumping', 'walking'])
    assert fixed.to(torch.float64)(names).dtype == torch.float64


def test_autocast_leaves_the_features_in_full_precision(tiny):
    _, path = tiny
    fresh = make(path, cache=False)(NAMES)
    encoder = make(path)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        under_amp = encoder(NAMES)
    assert under_amp.dtype == torch.float32
    assert torch.equal(under_amp, fresh)
    assert torch.equal(encoder(NAMES), fresh)  # the cache is not bf16
