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
parameters are also printed in the rows of the paper's Table 4.
"""
import argparse

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope


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


def main() -> None:
    args = parse_args()
    import mafsar_mm  # noqa: F401  (registers the modules)
    import mafsar_mm.models  # noqa: F401
    from mafsar_mm.utils.param_count import (count_parameters, format_budget,
                                             format_parameter_table,
                                             mafsar_budget)
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
            from mafsar_mm.utils.param_count import format_table4, table4_split
            neck = getattr(getattr(model, 'head', None), 'neck', None)
            print()
            print('Tunable parameters in the rows of MA-FSAR Table 4 '
                  '(ViT-B/32; docs/method.md):')
            print(format_table4(table4_split(backbone, neck)))
    if args.budget:
        if args.config is not None:
            print()
        print(f'MA-FSAR budget on {args.model_name} '
              '(CLIPViTFgMA defaults + TPCM):')
        print(format_budget(mafsar_budget(args.model_name)))


if __name__ == '__main__':
    main()
