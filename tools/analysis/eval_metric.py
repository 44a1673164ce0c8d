"""Recompute the metrics of a ``tools/test.py --dump`` pickle offline.

As MMAction2's ``tools/analysis_tools/eval_metric.py``: the config's
``test_evaluator`` (``FewShotAccuracy``: mean accuracy over the episodes
and its 95% confidence interval) is run on the dumped data samples with
MMEngine's ``Evaluator.offline_evaluate``, so the numbers are those
``tools/test.py`` printed for the same episodes. Usage::

    python tools/test.py CONFIG CKPT --dump preds.pkl
    python tools/analysis/eval_metric.py CONFIG preds.pkl [--json m.json]
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate the metrics of predictions dumped by '
        'tools/test.py --dump')
    parser.add_argument('config', help='the config the predictions used')
    parser.add_argument('pkl_results', help='the --dump pickle')
    parser.add_argument(
        '--json', help='also write the metrics to this JSON file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'test_evaluator.query_dump_file=queries.json')
    parser.add_argument(
        '--debug', action='store_true', help='show stack traces of errors')
    return parser.parse_args()


def evaluator_cfgs(cfg: Config) -> list:
    """The config's test evaluator(s) without ``DumpResults``."""
    evaluators = cfg.test_evaluator
    if not isinstance(evaluators, (list, tuple)):
        evaluators = [evaluators]
    return [e for e in evaluators if e.get('type') != 'DumpResults']


def load_samples(path: str) -> list:
    """The data samples of a dump, or an :class:`InputError` saying what
    the file is."""
    import mmengine

    from mafsar_mm.utils.errors import InputError
    if not osp.isfile(path):
        raise InputError(f'{path}: no such file (the --dump pickle of '
                         'tools/test.py).')
    try:
        samples = mmengine.load(path, file_format='pkl')
    except Exception as exc:  # not a pickle
        raise InputError(f'{path} is not a pickle of predictions '
                         f'({type(exc).__name__}: {exc}).') from None
    if not isinstance(samples, list) or not samples or not all(
            isinstance(s, dict) and 'pred_labels' in s for s in samples):
        raise InputError(f'{path} holds no predictions of tools/test.py '
                         '--dump (a list of episodes with pred_labels).')
    return samples


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    import mafsar_mm  # noqa: F401  (registers FewShotAccuracy)
    from mmengine.evaluator import Evaluator
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    samples = load_samples(args.pkl_results)
    metrics = Evaluator(evaluator_cfgs(cfg)).offline_evaluate(samples)
    print(json.dumps(metrics, indent=2))
    if args.json:
        from mafsar_mm.utils.atomic_files import atomic_write
        atomic_write(json.dumps(metrics, indent=2), args.json)


if __name__ == '__main__':
    from mafsar_mm.utils.errors import run_main
    sys.exit(run_main(main))
