"""Seeded head outputs of every config, for the head parity test.

``python tests/models/heads/head_parity.py OUT`` records, for every distinct
``model.head`` of the configs, the losses (train mode, seeded dropout), the
raw outputs and the predictions of every mode on seeded features, plus the
head's state-dict names and shapes. ``head_parity_main.pt`` next to this
file was recorded on main at 8d9a971 (before the head was composed of
registered parts); ``test_head_parity.py`` compares the current heads with
it bit for bit.
"""
import glob
import os.path as osp
import re
import sys
from functools import lru_cache
from typing import Dict

import torch
from mmaction.registry import MODELS
from mmengine.config import Config

import mafsar_mm  # noqa: F401

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG_DIR = osp.join(ROOT, 'configs')
NUM_CLASSES, NUM_QUERY, NUM_FRAMES, SPLIT_CLASSES = 5, 2, 8, 7


def leaf_configs() -> list:
    """Every leaf config, relative to ``configs/``."""
    paths = glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    return sorted(
        osp.relpath(p, CONFIG_DIR) for p in paths if '_base_' not in p)


@lru_cache(maxsize=None)
def head_cfg(rel_path: str) -> dict:
    """The ``model.head`` config of a leaf (parsed once)."""
    return Config.fromfile(osp.join(CONFIG_DIR, rel_path)).model.head


def setting(rel_path: str) -> Dict[str, int]:
    """Feature width and shots of a config, from its name."""
    shots = int(re.search(r'_5w(\d+)s[_.]', rel_path).group(1))
    width = 128 if 'vit-tiny' in rel_path else 512
    return dict(width=width, shots=shots)


def inputs(width: int, shots: int) -> dict:
    """Seeded episode features (support class by class)."""
    gen = torch.Generator().manual_seed(1234)
    num_support = NUM_CLASSES * shots
    return dict(
        support=torch.randn(num_support, NUM_FRAMES, width, generator=gen),
        support_labels=torch.arange(NUM_CLASSES).repeat_interleave(shots),
        query=torch.randn(
            NUM_CLASSES * NUM_QUERY, NUM_FRAMES, width, generator=gen),
        query_labels=torch.arange(NUM_CLASSES).repeat_interleave(NUM_QUERY),
        text=torch.randn(NUM_CLASSES, width, generator=gen),
        split_text=torch.randn(SPLIT_CLASSES, width, generator=gen),
        split_targets=torch.tensor([3, 0, 6, 1, 4]))


def run_head(cfg: dict, width: int, shots: int) -> dict:
    """Build ``cfg`` (seed 0) and run it on :func:`inputs` on one thread
    (the record's setting: sums split over threads round differently)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_head(cfg, width, shots)
    finally:
        torch.set_num_threads(threads)


def _run_head(cfg: dict, width: int, shots: int) -> dict:
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    x = inputs(width, shots)
    text = x['text'] if head.uses_text else None
    record = dict(state=[(k, tuple(v.shape))
                         for k, v in head.state_dict().items()])
    head.train()
    torch.manual_seed(1)
    kwargs = {}
    if getattr(head, 'text_classes', 'episode') == 'split':
        kwargs = dict(
            split_text=x['split_text'], split_targets=x['split_targets'])
    losses = head.loss(x['support'], x['support_labels'], x['query'],
                       x['query_labels'], text, **kwargs)
    record['losses'] = {k: v.detach() for k, v in losses.items()}
    head.eval()
    with torch.no_grad():
        outputs = head(x['support'], x['support_labels'], x['query'], text)
        record['outputs'] = dict(outputs)
        for mode in ('fused', 'match', 'text'):
            record[f'predict_{mode}'] = head.predict(
                x['support'],
                x['support_labels'],
                x['query'],
                x['text'],
                mode=mode)
    return record


def record_all() -> dict:
    """``{'configs': {path: key}, 'records': {key: record}}``; configs
    with equal heads (and settings) share one key."""
    configs, records, seen = {}, {}, {}
    for path in leaf_configs():
        cfg, st = head_cfg(path), setting(path)
        ident = repr((cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg, st))
        if ident not in seen:
            seen[ident] = path
            records[path] = run_head(cfg, **st)
        configs[path] = seen[ident]
    return dict(configs=configs, records=records)


if __name__ == '__main__':
    result = record_all()
    torch.save(result, sys.argv[1])
    print(f"{len(result['configs'])} configs, "
          f"{len(result['records'])} distinct heads")
