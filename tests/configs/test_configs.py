"""Every config parses; the synthetic ones build and run; swapping the
matcher is the only difference between MA-FSAR's (and the baselines')
matcher variants."""
import copy
import glob
import os.path as osp
import re

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

import mafsar_mm  # noqa: F401
from mafsar_mm.structures import EpisodeDataSample

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'configs')
ALL = sorted(glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))
LEAVES = [p for p in ALL if '_base_' not in p.split(osp.sep)]
SYNTHETIC = [p for p in LEAVES if 'synthetic' in osp.basename(p)]
REAL = [p for p in LEAVES if p not in SYNTHETIC]
NAME = re.compile(r'^(?P<method>[a-z]+)_(?P<backbone>vit-[a-z0-9]+)'
                  r'(?P<frozen>-frozen)?_5w(?P<shots>\d+)s_'
                  r'(?P<data>[a-z0-9-]+?)(_(?P<matcher>bimhm|trx|proto))?'
                  r'(_(?P<variant>table4|trx-recipe))?\.py$')
DATA_ROOTS = {
    'ssv2-small': 'data/ssv2_small',
    'ssv2-full': 'data/ssv2_full',
    'kinetics100': 'data/kinetics100',
    'ucf101': 'data/ucf101',
    'hmdb51': 'data/hmdb51',
    'synthetic': 'data/synthetic',
    'synthetic-temporal': 'data/synthetic_temporal',
}
PRETRAINED_TINY_CLIP = 'data/pretrained/clip_tiny.pt'
_CACHE = {}


def rel(path: str) -> str:
    return osp.relpath(path, CONFIG_DIR)


def load(path: str) -> Config:
    """Parse a config once per test session."""
    if path not in _CACHE:
        _CACHE[path] = Config.fromfile(path)
    return _CACHE[path]


def flatten(obj, prefix: str = '') -> dict:
    """``{'a.b.0.c': value}`` for nested dicts and lists."""
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = ((str(i), v) for i, v in enumerate(obj))
    else:
        return {prefix: obj}
    out = {}
    for key, value in items:
        out.update(flatten(value, f'{prefix}.{key}' if prefix else key))
    if not out:  # keep empty containers visible
        out[prefix] = obj
    return out


def differing_keys(a: str, b: str) -> set:
    """Flattened keys whose values differ between two configs."""
    fa = flatten(load(a).to_dict())
    fb = flatten(load(b).to_dict())
    return {k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k)}


def test_configs_found():
    assert len(SYNTHETIC) >= 18 and len(REAL) >= 40
    names = {osp.basename(p) for p in LEAVES}
    for method in ('otam', 'bimhm', 'trx', 'protonet'):
        for data in ('ssv2-small', 'ssv2-full', 'kinetics100'):
            for k in (1, 5):
                assert f'{method}_vit-b32_5w{k}s_{data}.py' in names
        for k in (1, 5):
            assert f'{method}_vit-tiny_5w{k}s_synthetic.py' in names
    for data in ('ssv2-small', 'ssv2-full', 'kinetics100'):
        for k in (1, 5):
            assert f'clipfsar_vit-b16_5w{k}s_{data}.py' in names


@pytest.mark.parametrize('path', ALL, ids=rel)
def test_config_parses(path):
    cfg = load(path)
    if path in LEAVES:
        assert cfg.model.type == 'FewShotRecognizer'
        assert cfg.default_scope == 'mmaction'
        assert 'mafsar_mm' in cfg.custom_imports.imports


@pytest.mark.parametrize('path', LEAVES, ids=rel)
def test_leaf_name_matches_its_data_and_shots(path):
    if osp.basename(path) == 'mafsar_ssv2_5w1s.py':  # the headline alias
        path = osp.join(CONFIG_DIR, 'mafsar',
                        'mafsar_vit-b16_5w1s_ssv2-full.py')
    match = NAME.match(osp.basename(path))
    assert match, f'{rel(path)} does not follow the naming scheme'
    cfg = load(path)
    test_set = cfg.test_dataloader.dataset
    assert test_set.k_shot == int(match['shots']) and test_set.n_way == 5
    assert test_set.data_root == DATA_ROOTS[match['data']]
    backbone = cfg.model.backbone
    if match['backbone'] != 'vit-tiny':
        size = match['backbone'].split('-')[1].upper()  # B16 / B32
        assert backbone.clip.model_name == f'ViT-{size[0]}-{size[1:]}'
        assert backbone.clip.pretrained == 'openai'
    if match['method'] in ('otam', 'bimhm', 'trx', 'protonet'):
        # unimodal: CLIP visual tower, no text anywhere
        assert backbone.type == 'CLIPVisual'
        assert backbone.frozen == bool(match['frozen'])
        assert cfg.model.get('text_encoder') is None
        assert cfg.model.head.get('alpha', 0.0) == 0.0
    if match['method'] == 'clipfsar':
        assert backbone.type == 'CLIPVisual' and not backbone.frozen
        assert cfg.model.head.neck.type == 'MultimodalTransformer'
        assert cfg.model.head.type == 'CLIPFSARHead'
        assert cfg.model.head.fusion.type == 'GeometricFusion'


def fake_episode(n: int = 3, k: int = 1, q: int = 1, size: int = 64):
    """Random preprocessed inputs and the episode's data sample."""
    sample = EpisodeDataSample(
        metainfo=dict(class_names=[f'class {i}' for i in range(n)]))
    sample.support_labels = torch.arange(n).repeat_interleave(k)
    sample.query_labels = torch.arange(n).repeat_interleave(q)
    inputs = torch.randn(1, n * (k + q), 3, 8, size, size)
    return inputs, [sample]


@pytest.mark.parametrize('path', SYNTHETIC, ids=rel)
def test_synthetic_config_uses_the_pretrained_tiny_clip(path):
    """Frozen for MA-FSAR, fully fine-tuned for the baselines, as in the
    papers; the text encoder reads the same pretrained weights."""
    model = load(path).model
    assert model.backbone.clip.pretrained == PRETRAINED_TINY_CLIP
    if model.get('text_encoder') is not None:
        assert model.text_encoder.clip.pretrained == PRETRAINED_TINY_CLIP
    frozen = model.backbone.get('frozen', True)
    assert frozen == (model.backbone.type == 'CLIPViTFgMA')


@pytest.mark.parametrize('path', SYNTHETIC, ids=rel)
def test_synthetic_config_builds_and_runs(path):
    cfg = Config(copy.deepcopy(load(path).to_dict()))
    torch.manual_seed(0)
    for part in ('backbone', 'text_encoder'):  # random weights here
        if cfg.model.get(part) is not None:
            cfg.model[part].clip.pretrained = None
    model = MODELS.build(cfg.model)
    inputs, samples = fake_episode(size=cfg.get('input_size', 64))
    model.eval()
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')[0]
    assert out.pred_scores.shape == (3, 3)
    assert torch.allclose(out.pred_scores.sum(1), torch.ones(3), atol=1e-5)


@pytest.mark.parametrize('path', REAL, ids=rel)
def test_real_config_head_builds_and_runs(path):
    """Real-benchmark heads (and matchers) without the ViT-B encoders."""
    cfg = load(path)
    head = MODELS.build(cfg.model.head)
    head.eval()
    width = 512  # CLIP ViT-B/16 and ViT-B/32 embeddings
    frames = cfg.model.backbone.get('num_frames', 8)
    support, query = torch.randn(3, frames,
                                 width), torch.randn(2, frames, width)
    text = torch.randn(3, width) if head.uses_text else None
    with torch.no_grad():
        probs = head.predict(support, torch.arange(3), query, text)
    assert probs.shape == (2, 3)


def test_one_real_config_builds_without_pretrained_weights():
    path = osp.join(CONFIG_DIR, 'baselines', 'clipfsar',
                    'clipfsar_vit-b16_5w1s_ssv2-small.py')
    cfg = Config.fromfile(path)
    cfg.model.backbone.clip.pretrained = None
    cfg.model.text_encoder.clip.pretrained = None
    model = MODELS.build(cfg.model)
    trainable = {
        n.split('.')[0]
        for n, p in model.named_parameters() if p.requires_grad
    }
    # full fine-tuning of the visual tower, frozen text encoder
    assert trainable == {'backbone', 'head'}
    assert model.backbone.output_dim == 512


MATCHER_VARIANTS = [
    ('mafsar/mafsar_vit-tiny_5w{k}s_synthetic.py', ('bimhm', 'trx', 'proto')),
    ('mafsar/mafsar_vit-tiny_5w{k}s_synthetic-temporal.py',
     ('bimhm', 'trx', 'proto')),
    ('mafsar/mafsar_vit-b32_5w{k}s_ssv2-small.py', ('bimhm', 'trx', 'proto')),
]


@pytest.mark.parametrize('shots', [1, 5])
@pytest.mark.parametrize('template, suffixes', MATCHER_VARIANTS)
def test_mafsar_matcher_variants_differ_only_in_the_matcher(
        template, suffixes, shots):
    base = osp.join(CONFIG_DIR, template.format(k=shots))
    for suffix in suffixes:
        other = base.replace('.py', f'_{suffix}.py')
        keys = differing_keys(base, other)
        assert keys, f'{rel(other)} is the same as {rel(base)}'
        assert all(k.startswith('model.head.matcher.') for k in keys), (
            sorted(keys))


@pytest.mark.parametrize('setting', [
    'vit-tiny_5w1s_synthetic', 'vit-tiny_5w5s_synthetic',
    'vit-tiny_5w1s_synthetic-temporal',
    'vit-b32_5w1s_ssv2-small', 'vit-b32_5w5s_kinetics100'
])
def test_unimodal_baselines_differ_only_in_the_matcher(setting):

    def path(method):
        return osp.join(CONFIG_DIR, 'baselines', method,
                        f'{method}_{setting}.py')

    for method in ('bimhm', 'trx', 'protonet'):
        keys = differing_keys(path('otam'), path(method))
        # how the shots of a class are combined belongs to the metric's
        # official head (docs/recipes.md)
        assert keys and all(
            k.startswith('model.head.matcher.') or k == 'model.head.shot_merge'
            for k in keys), sorted(keys)


TEMPORAL = [p for p in SYNTHETIC if 'synthetic-temporal' in p]


#: what the 5-way 1-shot temporal configs take from val
#: (tests/configs/test_val_choices.py pins the values to the table)
VAL_CHOSEN = ('val_chosen.', '_iters', 'train_cfg.',
              'optim_wrapper.optimizer.lr', 'param_scheduler.',
              'default_hooks.checkpoint.interval', 'model.head.predict_alpha')


@pytest.mark.parametrize('path', TEMPORAL, ids=rel)
def test_temporal_flavour_differs_only_in_the_data_root(path):
    """... and, for the 1-shot configs whose row val chose, in the
    budget, learning rate and text weight."""
    spatial = path.replace('synthetic-temporal', 'synthetic')
    keys = differing_keys(spatial, path) - {'_data.dataset.data_root'}
    roots = {f'{split}_dataloader.dataset.data_root'
             for split in ('train', 'val', 'test')}
    assert roots <= keys
    chosen = sorted(keys - roots)
    if '_5w1s_' in path:
        assert chosen and all(k.startswith(VAL_CHOSEN) for k in chosen), (
            chosen)
    else:
        assert chosen == []


def test_every_synthetic_config_has_a_temporal_version():
    spatial = [p for p in SYNTHETIC if p not in TEMPORAL]
    assert len(spatial) == len(TEMPORAL) >= 18
    for path in spatial:
        assert path.replace('synthetic', 'synthetic-temporal') in TEMPORAL
