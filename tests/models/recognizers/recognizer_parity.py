"""Seeded recognizer outputs of one tiny config per method and shot.

``python tests/models/recognizers/recognizer_parity.py OUT`` builds each
config of ``CONFIGS`` with a random tiny CLIP (seed 0) and records its
losses (train mode, seeded dropout) and predictions on one seeded
episode (two shots for the 5-shot configs). ``recognizer_parity_main.pt``
next to this file was recorded on main at 8d9a971 (the head one box of
switches, the class texts encoded in several places);
``test_recognizer_parity.py`` compares the current recognizer with it bit
for bit.
"""
import os.path as osp
import sys

import torch
from mmaction.registry import MODELS
from mmengine.config import Config

import mafsar_mm  # noqa: F401
from mafsar_mm.structures import EpisodeDataSample

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = [
    'mafsar/mafsar_vit-tiny_5w1s_synthetic.py',
    'mafsar/mafsar_vit-tiny_5w5s_synthetic.py',
    'baselines/clipfsar/clipfsar_vit-tiny_5w1s_synthetic.py',
    'baselines/clipfsar/clipfsar_vit-tiny_5w5s_synthetic.py',
    'baselines/otam/otam_vit-tiny_5w1s_synthetic.py',
    'baselines/trx/trx_vit-tiny_5w1s_synthetic.py',
    'baselines/bimhm/bimhm_vit-tiny_5w5s_synthetic.py',
    'baselines/protonet/protonet_vit-tiny_5w1s_synthetic.py',
]
NUM_CLASSES, NUM_QUERY, SIZE = 3, 1, 64
SPLIT = [f'class {i}' for i in range(5)]


def build(rel_path: str):
    """The config's recognizer with random CLIP weights (seed 0)."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', rel_path))
    for part in ('backbone', 'text_encoder'):
        if cfg.model.get(part) is not None:
            cfg.model[part].clip.pretrained = None
            # recorded with the patchify tower; the tiny CLIP's conv stem
            # came later (an architecture change, not a refactor)
            cfg.model[part].clip.model_cfg.pop('conv_stem', None)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def episode(shots: int):
    """Seeded preprocessed inputs ``[1, V, C, T, H, W]`` and the sample,
    episode classes 4, 1, 3 of a five-class split."""
    gen = torch.Generator().manual_seed(99)
    names = [SPLIT[i] for i in (4, 1, 3)]
    sample = EpisodeDataSample(
        metainfo=dict(class_names=names, split_class_names=SPLIT))
    sample.support_labels = torch.arange(NUM_CLASSES).repeat_interleave(shots)
    sample.query_labels = torch.arange(NUM_CLASSES).repeat_interleave(
        NUM_QUERY)
    inputs = torch.randn(
        1, NUM_CLASSES * (shots + NUM_QUERY), 3, 8, SIZE, SIZE, generator=gen)
    return inputs, sample


def run(rel_path: str) -> dict:
    """Losses and predictions of one config."""
    model = build(rel_path)
    shots = 2 if '_5w5s_' in rel_path else 1  # K > 1 is what counts
    inputs, sample = episode(shots)
    model.train()
    torch.manual_seed(1)
    losses = model(inputs, [sample.clone()], mode='loss')
    record = dict(losses={k: v.detach() for k, v in losses.items()})
    model.eval()
    with torch.no_grad():
        out = model(inputs, [sample.clone()], mode='predict')[0]
        record['pred_scores'] = out.pred_scores
    return record


if __name__ == '__main__':
    result = {path: run(path) for path in CONFIGS}
    torch.save(result, sys.argv[1])
    print(f'{len(result)} recognizers recorded')
