"""Parameter counting: totals, tunable/frozen split per submodule, and the
MA-FSAR ViT-B/32 budget of the paper's Table 4 (docs/method.md)."""
from typing import Dict, List, Optional

from torch import nn


def _count(module: nn.Module) -> Dict[str, int]:
    """Total / tunable / frozen parameter numbers (shared ones once)."""
    total = tunable = 0
    for param in module.parameters():
        total += param.numel()
        if param.requires_grad:
            tunable += param.numel()
    return dict(total=total, tunable=tunable, frozen=total - tunable)


def count_parameters(model: nn.Module, depth: int = 2) -> List[dict]:
    """Count parameters of a model and of its submodules.

    Args:
        model (nn.Module): The model.
        depth (int): Deepest submodule level to list (1 = direct
            children, 2 = their children, ...). Defaults to 2.

    Returns:
        list[dict]: Rows ``dict(name, depth, total, tunable, frozen)``; the
        first row is the whole model (``name='total'``, depth 0), then the
        submodules with parameters in definition order.
    """
    rows = [dict(name='total', depth=0, **_count(model))]
    for name, module in model.named_modules():
        level = name.count('.') + 1 if name else 0
        if not name or level > depth:
            continue
        counts = _count(module)
        if counts['total']:
            rows.append(dict(name=name, depth=level, **counts))
    return rows


def format_parameter_table(rows: List[dict]) -> str:
    """Render rows of :func:`count_parameters` as a text table (M =
    10^6).

    Args:
        rows (list[dict]): Rows with ``name``, ``total``, ``tunable``,
            ``frozen`` and optionally ``depth`` (for indentation).

    Returns:
        str: The table.
    """
    names = ['  ' * max(row.get('depth', 1) - 1, 0) + row['name']
             for row in rows]
    width = max([len('module')] + [len(n) for n in names])
    cols = ('total', 'tunable', 'frozen')
    cell = 24  # '123,456,789 (  123.46 M)'
    header = f'{"module":<{width}}' + ''.join(
        f'  {c:>{cell}}' for c in cols)
    lines = [header, '-' * len(header)]
    for name, row in zip(names, rows):
        cells = ''.join(f'  {row[c]:>12,d} ({row[c] / 1e6:8.2f} M)'
                        for c in cols)
        lines.append(f'{name:<{width}}{cells}')
    return '\n'.join(lines)


def mafsar_budget(model_name: str = 'ViT-B-32',
                  backbone_kwargs: Optional[dict] = None,
                  neck_kwargs: Optional[dict] = None) -> Dict[str, int]:
    """Parameter budget of MA-FSAR on a named CLIP (random init, nothing is
    downloaded).

    Builds ``CLIPViTFgMA(clip=dict(model_name=model_name))`` and a
    :class:`TPCM` of the CLIP embedding width. Paper (Table 4, ViT-B/32):
    adapters + Text FC ~15.4 M, tunable with TPCM 18.54 M, frozen CLIP
    151.3 M, full fine-tuning 90.99 M.

    Args:
        model_name (str): open_clip architecture. Defaults to
            ``'ViT-B-32'``.
        backbone_kwargs (dict, optional): Extra :class:`CLIPViTFgMA`
            arguments (e.g. ``share_lma_lsta=False``). Defaults to None.
        neck_kwargs (dict, optional): Extra :class:`TPCM` arguments.
            Defaults to None.

    Returns:
        dict[str, int]: ``adapters`` (GTA, LMA/LSTA, joint), ``text_fc``,
        ``temporal_embedding``, ``adapters_text_fc`` (all tunable backbone
        parameters), ``tpcm``, ``tunable_total``, ``clip_total`` (whole
        frozen CLIP, text tower included), ``visual_total`` (visual
        tower), ``full_visual_ft`` (visual tower + TPCM: the paper's full
        fine-tuning baseline) and ``frozen_total`` (frozen parameters of
        backbone + text encoder = ``clip_total``).
    """
    from mafsar_mm.models.backbones import CLIPViTFgMA
    from mafsar_mm.models.necks import TPCM
    from mafsar_mm.models.utils import build_open_clip

    clip = build_open_clip(model_name=model_name)
    clip_total = _count(clip)['total']
    visual_total = _count(clip.visual)['total']
    del clip
    backbone = CLIPViTFgMA(
        clip=dict(model_name=model_name), **(backbone_kwargs or {}))
    neck = TPCM(in_channels=backbone.output_dim, **(neck_kwargs or {}))
    adapters = sum(
        _count(mods)['tunable']
        for mods in (backbone.t_adapters, backbone.m_adapters,
                     backbone.st_adapters, backbone.j_adapters)
        if mods is not None)
    text_fc = sum(
        _count(mods)['tunable']
        for mods in (backbone.text_fcs, backbone.text_fc)
        if mods is not None)
    temporal = backbone.temporal_embedding.numel() \
        if backbone.temporal_embedding is not None else 0
    backbone_tunable = _count(backbone)['tunable']
    tpcm = _count(neck)['tunable']
    return dict(
        adapters=adapters,
        text_fc=text_fc,
        temporal_embedding=temporal,
        adapters_text_fc=backbone_tunable,
        tpcm=tpcm,
        tunable_total=backbone_tunable + tpcm,
        clip_total=clip_total,
        visual_total=visual_total,
        full_visual_ft=visual_total + tpcm,
        frozen_total=clip_total)


def format_budget(budget: Dict[str, int]) -> str:
    """Render :func:`mafsar_budget` next to the paper's numbers."""
    paper = dict(
        adapters_text_fc='~15.4 M',
        tunable_total='18.54 M',
        frozen_total='151.3 M',
        full_visual_ft='90.99 M')
    lines = []
    for key, value in budget.items():
        ref = f'   (paper: {paper[key]})' if key in paper else ''
        lines.append(f'{key:<20} {value:>12,d}  {value / 1e6:8.3f} M{ref}')
    return '\n'.join(lines)


# MA-FSAR paper, Table 4 (ViT-B/32), tunable parameters in M.
TABLE4_PAPER = dict(
    temporal_adaptation=7.10,
    multimodal_adaptation=4.79,
    joint_adaptation=3.50,
    tpcm=3.15,
    total=18.54)


def table4_split(backbone: nn.Module,
                 neck: Optional[nn.Module] = None) -> Dict[str, int]:
    """Tunable parameters of MA-FSAR in the rows of the paper's Table 4.

    The rows are read as: temporal adaptation = GTA adapters, the LSTA
    adapters when they are separate from LMA (``share_lma_lsta=False``)
    and the temporal position embedding; multimodal adaptation = LMA
    adapters (shared with LSTA by default) + Text FCs; joint adaptation =
    joint adapters; TPCM = the prototype module.

    Args:
        backbone (nn.Module): A :class:`CLIPViTFgMA`.
        neck (nn.Module, optional): The TPCM. Defaults to None (0).

    Returns:
        dict[str, int]: ``temporal_adaptation``,
        ``multimodal_adaptation``, ``joint_adaptation``, ``tpcm`` and
        ``total`` (their sum).
    """

    def tunable(*mods) -> int:
        return sum(
            _count(m)['tunable'] for m in mods if isinstance(m, nn.Module))

    temporal = tunable(backbone.t_adapters, backbone.st_adapters)
    if backbone.temporal_embedding is not None and \
            backbone.temporal_embedding.requires_grad:
        temporal += backbone.temporal_embedding.numel()
    rows = dict(
        temporal_adaptation=temporal,
        multimodal_adaptation=tunable(backbone.m_adapters,
                                      backbone.text_fcs, backbone.text_fc),
        joint_adaptation=tunable(backbone.j_adapters),
        tpcm=tunable(neck))
    rows['total'] = sum(rows.values())
    return rows


def format_table4(rows: Dict[str, int], tolerance: float = 0.05) -> str:
    """Render :func:`table4_split` next to the paper's Table 4 (M =
    10^6), with the difference and whether it is within ``tolerance``
    M."""
    lines = [f'{"row":<22} {"ours":>12} {"ours (M)":>9} {"paper (M)":>9} '
             f'{"diff (M)":>9}  within {tolerance} M']
    for key, value in rows.items():
        paper = TABLE4_PAPER[key]
        diff = value / 1e6 - paper
        ok = 'yes' if abs(diff) <= tolerance else 'NO'
        lines.append(f'{key:<22} {value:>12,d} {value / 1e6:9.3f} '
                     f'{paper:9.2f} {diff:+9.3f}  {ok}')
    return '\n'.join(lines)
