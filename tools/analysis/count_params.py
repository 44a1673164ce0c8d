"""Count the parameters of a model config without downloading weights.

Usage::

    python tools/analysis/count_params.py configs/mafsar_ssv2_5w1s.py
    python tools/analysis/count_params.py \
        configs/mafsar/mafsar_vit-b32_5w1s_ssv2-small_table4.py
    python tools/analysis/count_params.py CONFIG --depth 3
    python tools/analysis/count_params.py --budget [--model-name ViT-B-16]

Every ``pretrained`` of a CLIP config (a dict with ``model_name`` or
``model_cfg``) is set to None and ``Pretrained`` init configs are dropped,
so the architecture is built with random weights: counts are exact, nothing
is downloaded. For an MA-FSAR model (``CLIPViTFgMA``) the tunable
parameters are also printed in the rows of the paper's Table 4; they are
compared with the paper's numbers only for the config that reproduces that
table (``configs/mafsar/mafsar_vit-b32_5w1s_ssv2-small_table4.py``, or
with ``--table4``): other configs have other sizes, so a comparison would
only print differences that are expected.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from torch import nn

#: the config whose adapter sizes reproduce the paper's Table 4
TABLE4_CONFIG = 'mafsar_vit-b32_5w1s_ssv2-small_table4.py'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Count total / tunable / frozen parameters')
    parser.add_argument('config', nargs='?', help='model config file')
    parser.add_argument(
        '--depth', type=int, default=2, help='submodule depth to list')
    parser.add_argument(
        '--budget',
        action='store_true',
        help='print the MA-FSAR budget (CLIPViTFgMA + TPCM) of '
        '--model-name next to the paper numbers')
    parser.add_argument(
        '--model-name',
        default='ViT-B-32',
        help='open_clip architecture for --budget')
    parser.add_argument(
        '--table4',
        action='store_true',
        help='compare the Table 4 rows with the paper also for a config '
        f'other than {TABLE4_CONFIG}')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy')
    args = parser.parse_args()
    if args.config is None and not args.budget:
        parser.error('give a config and/or --budget')
    return args


def strip_pretrained(node):
    """Set ``pretrained=None`` in every CLIP config and drop
    ``init_cfg=dict(type='Pretrained', ...)``, recursively (in place).

    Args:
        node: A config node (dict, list or leaf).

    Returns:
        The same node.
    """
    if isinstance(node, dict):
        if 'pretrained' in node and ('model_name' in node
                                     or 'model_cfg' in node):
            node['pretrained'] = None
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and \
                init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None
        for value in node.values():
            strip_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            strip_pretrained(value)
    return node


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
    from mafsar_mm.models.clip import build_open_clip

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


def format_table4(rows: Dict[str, int],
                  tolerance: float = 0.05,
                  paper: bool = True) -> str:
    """Render :func:`table4_split` (M = 10^6), next to the paper's Table 4
    with the difference and whether it is within ``tolerance`` M when
    ``paper``."""
    if not paper:
        lines = [f'{"row":<22} {"ours":>12} {"ours (M)":>9}']
        lines += [f'{key:<22} {value:>12,d} {value / 1e6:9.3f}'
                  for key, value in rows.items()]
        return '\n'.join(lines)
    lines = [f'{"row":<22} {"ours":>12} {"ours (M)":>9} {"paper (M)":>9} '
             f'{"diff (M)":>9}  within {tolerance} M']
    for key, value in rows.items():
        ref = TABLE4_PAPER[key]
        diff = value / 1e6 - ref
        ok = 'yes' if abs(diff) <= tolerance else 'NO'
        lines.append(f'{key:<22} {value:>12,d} {value / 1e6:9.3f} '
                     f'{ref:9.2f} {diff:+9.3f}  {ok}')
    return '\n'.join(lines)


def print_table4(model: nn.Module, compare: bool) -> None:
    """Print the tunable parameters of an MA-FSAR model in the rows of the
    paper's Table 4, next to the paper's numbers when ``compare``."""
    backbone = getattr(model, 'backbone', None)
    neck = getattr(getattr(model, 'head', None), 'neck', None)
    rows = table4_split(backbone, neck)
    print()
    if compare:
        print('Tunable parameters in the rows of MA-FSAR Table 4 '
              '(ViT-B/32; docs/method.md):')
        print(format_table4(rows))
        return
    print('Tunable parameters in the rows of MA-FSAR Table 4 '
          '(docs/method.md):')
    print(format_table4(rows, paper=False))
    print(f'(compared with the paper for {TABLE4_CONFIG}, whose adapter '
          'sizes reproduce that table; --table4 compares this config)')


def main() -> None:
    args = parse_args()
    import mafsar_mm  # noqa: F401  (registers the modules)
    if args.config is not None:
        from mmaction.registry import MODELS
        cfg = Config.fromfile(args.config)
        if args.cfg_options is not None:
            cfg.merge_from_dict(args.cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmaction'))
        model_cfg = strip_pretrained(cfg.model.to_dict() if hasattr(
            cfg.model, 'to_dict') else dict(cfg.model))
        model = MODELS.build(model_cfg)
        print(f'Parameters of {args.config} (random init):')
        print(format_parameter_table(count_parameters(model, args.depth)))
        backbone = getattr(model, 'backbone', None)
        if type(backbone).__name__ == 'CLIPViTFgMA':
            compare = args.table4 or osp.basename(
                args.config) == TABLE4_CONFIG
            print_table4(model, compare)
    if args.budget:
        if args.config is not None:
            print()
        print(f'MA-FSAR budget on {args.model_name} '
              '(CLIPViTFgMA defaults + TPCM):')
        print(format_budget(mafsar_budget(args.model_name)))


if __name__ == '__main__':
    main()
