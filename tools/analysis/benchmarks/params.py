"""Section 1: total and tunable parameters of every method."""
import gc
from typing import Dict, Sequence

from .common import build_model, recognizer_cfg

#: (key, method, what is tuned); the models: :func:`recognizer_cfg`
PARAM_METHODS = (
    ('mafsar', 'MA-FSAR',
     'frozen CLIP + FgMA adapters + Text FC, TPCM, OTAM, text branch'),
    ('full_ft', 'Full fine-tuning',
     'whole visual tower tuned, TPCM, OTAM, frozen text tower'),
    ('frozen', 'Frozen CLIP + TPCM', 'no adaptation (ablation "TPCM only")'),
    ('clip_fsar', 'CLIP-FSAR',
     'visual tower tuned, multimodal prototype transformer'),
    ('trx', 'TRX', 'visual tower tuned, TRX cross-transformer (omega = 2, 3)'),
    ('otam', 'OTAM', 'visual tower tuned, parameter-free OTAM'),
)


def _count(module) -> dict:
    total = sum(p.numel() for p in module.parameters())
    tunable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return dict(total=total, tunable=tunable, frozen=total - tunable)


def run_params(archs: Sequence[str],
               extra_archs: Dict[str, Sequence[str]],
               num_frames: int = 8) -> dict:
    """Count the parameters of every method.

    Args:
        archs (Sequence[str]): Architectures built for every method.
        extra_archs (dict[str, Sequence[str]]): More architectures for
            some methods, e.g. ``{'mafsar': ['ViT-B-16']}``.
        num_frames (int): Frames per video (TRX tuples). Defaults to 8.

    Returns:
        dict: ``rows``: one dict per (method, architecture) with
        ``total``, ``tunable``, ``frozen``, ``visual``, ``text`` and the
        tunable ``parts`` of MA-FSAR.
    """
    rows = []
    for key, method, note in PARAM_METHODS:
        for arch in list(archs) + list(extra_archs.get(key, ())):
            model = build_model(
                recognizer_cfg(key, arch, num_frames=num_frames))
            row = dict(
                key=key, method=method, arch=arch, note=note, **_count(model))
            row['visual'] = _count(model.backbone.visual)['total']
            row['text'] = (
                _count(model.text_encoder)['total']
                if model.text_encoder is not None else 0)
            parts = {}
            backbone = model.backbone
            if key == 'mafsar':
                # every tunable submodule (adapters, Text FCs, ...) and the
                # backbone's own tunable parameters (temporal embedding)
                for name, mod in backbone.named_children():
                    if _count(mod)['tunable']:
                        parts[name] = _count(mod)['tunable']
                own = sum(p.numel() for p in backbone.parameters(
                    recurse=False) if p.requires_grad)
                if own:
                    parts['backbone_parameters'] = own
            else:
                parts['visual'] = _count(backbone)['tunable']
            if model.head.neck is not None:
                parts['neck'] = _count(model.head.neck)['tunable']
            parts['matcher'] = _count(model.head.matcher)['tunable']
            parts['head_scales'] = (
                _count(model.head)['tunable'] - parts['matcher'] -
                parts.get('neck', 0))
            row['parts'] = parts
            rows.append(row)
            del model
            gc.collect()
    return dict(rows=rows)
