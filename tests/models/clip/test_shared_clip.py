"""One CLIP built and loaded for the backbone and the text encoder when
both name the same weights (``share_clip_models``)."""
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

import mafsar_mm  # noqa: F401
from mafsar_mm.models.clip import build_clip_part, share_clip_models
from mafsar_mm.models.clip import open_clip_builder as builder

CONFIG = 'configs/mafsar/mafsar_vit-tiny_5w1s_synthetic.py'


def weights_file(path, seed):
    """A random CLIP of the config's architecture saved to ``path``."""
    torch.manual_seed(seed)
    clip = builder.build_open_clip(
        model_cfg=Config.fromfile(CONFIG).clip.model_cfg)
    torch.save(clip.state_dict(), path)
    return clip, str(path)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return weights_file(tmp_path_factory.mktemp('clip') / 'tiny.pt', 0)


@pytest.fixture
def loads(monkeypatch):
    """The weight files loaded and the models built, in order."""
    record = dict(files=[], models=[])
    load, build = builder._load_weights, builder.build_open_clip

    def counting_load(model, path, *args, **kwargs):
        record['files'].append(path)
        return load(model, path, *args, **kwargs)

    def counting_build(**kwargs):
        record['models'].append(build(**kwargs))
        return record['models'][-1]

    monkeypatch.setattr(builder, '_load_weights', counting_load)
    monkeypatch.setattr(builder, 'build_open_clip', counting_build)
    return record


def model_cfg(backbone_weights, text_weights):
    model = Config.fromfile(CONFIG).model
    model.backbone.clip.pretrained = backbone_weights
    model.text_encoder.clip.pretrained = text_weights
    return model


def test_same_weights_are_loaded_once(tiny, loads):
    _, path = tiny
    model = MODELS.build(model_cfg(path, path))
    assert loads['files'] == [path]
    clip, = loads['models']
    # the halves of one open_clip model, under their usual names
    assert model.backbone.visual is clip.visual
    assert model.text_encoder.transformer is clip.transformer
    assert model.text_encoder.token_embedding is clip.token_embedding
    # the text encoder's half is the file's, not a random one
    assert torch.equal(model.text_encoder.token_embedding.weight,
                       tiny[0].token_embedding.weight)


def test_other_weights_are_loaded_each(tiny, loads, tmp_path):
    _, path = tiny
    _, other = weights_file(tmp_path / 'other.pt', 3)
    loads['models'].clear()
    model = MODELS.build(model_cfg(path, other))
    assert loads['files'] == [path, other]
    assert model.backbone.visual is loads['models'][0].visual
    assert model.text_encoder.transformer is loads['models'][1].transformer


def test_random_weights_are_not_shared(loads):
    # two random CLIPs are two sets of weights (and keep their RNG draws)
    MODELS.build(model_cfg(None, None))
    assert len(loads['models']) == 2 and loads['files'] == []


def test_shared_build_keeps_keys_values_and_frozen_parts(tiny):
    """A state dict of a model built without sharing (the code before
    it) loads strictly into a shared one, and the same parameters
    train."""
    _, path = tiny
    cfg = model_cfg(path, path)
    torch.manual_seed(0)
    shared = MODELS.build(cfg)
    torch.manual_seed(1)
    # each CLIP of its own: main's build
    backbone = MODELS.build(cfg.backbone)
    text = MODELS.build(cfg.text_encoder)
    assert not (set(shared.text_encoder.parameters())
                & set(backbone.parameters()))
    reference = dict(
        **{
            f'backbone.{k}': v
            for k, v in backbone.state_dict().items()
        }, **{
            f'text_encoder.{k}': v
            for k, v in text.state_dict().items()
        })
    keys = {
        k
        for k in shared.state_dict()
        if k.split('.')[0] in ('backbone', 'text_encoder')
    }
    assert keys == set(reference)
    tuned = {
        n
        for n, p in shared.named_parameters()
        if p.requires_grad and not n.startswith('head.')
    }
    assert tuned == {
        f'backbone.{n}'
        for n, p in backbone.named_parameters() if p.requires_grad
    }
    assert tuned and not any(
        n.startswith(('text_encoder.', 'backbone.visual.')) for n in tuned)
    state = dict(shared.state_dict(), **reference)
    shared.load_state_dict(state, strict=True)
    for key, value in reference.items():
        assert torch.equal(shared.state_dict()[key], value), key


def test_each_part_is_handed_out_once(tiny, loads):
    _, path = tiny
    clip = dict(
        model_cfg=Config.fromfile(CONFIG).clip.model_cfg, pretrained=path)
    with share_clip_models():
        first = build_clip_part(clip, 'visual')
        assert build_clip_part(dict(clip), 'text') is first
        second = build_clip_part(clip, 'visual')  # another backbone
    assert second is not first and len(loads['files']) == 2
    # outside the block nothing is shared
    assert build_clip_part(clip, 'visual') is not build_clip_part(clip, 'text')
    assert len(loads['files']) == 4
    with pytest.raises(TypeError, match='clip must be a dict'):
        build_clip_part('ViT-B-32', 'visual')
