"""Print the whole config after ``_base_`` inheritance and
``--cfg-options``, as MMAction2's ``tools/analysis_tools/print_config.py``.
Usage::

    python tools/analysis/print_config.py configs/mafsar_ssv2_5w1s.py
    python tools/analysis/print_config.py CONFIG \\
        --cfg-options model.head.matcher.type=BiMHMMatcher
"""
import argparse
import sys

from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options',
        '--options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.head.alpha=0.3')
    parser.add_argument(
        '--debug', action='store_true', help='show stack traces of errors')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config, import_custom_modules=False)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')


if __name__ == '__main__':
    from mafsar_mm.utils.errors import run_main
    sys.exit(run_main(main))
