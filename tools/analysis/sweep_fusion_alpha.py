"""Accuracy of a trained text-reading model for several weights of its text
branch in the prediction (``model.head.predict_alpha``), on val episodes.

MA-FSAR predicts ``p = alpha * p_Q2T + (1 - alpha) * p_Q2S`` and did not
publish alpha (docs/method.md); CLIP-FSAR fuses geometrically with its own
weight. This tool encodes the split's videos once, as the cached test
loop does, and predicts every episode with each weight, so the weight can
be chosen on val, never on the test classes. ``0`` is the matcher alone
and ``1`` the text branch alone.

Example::

    python tools/analysis/sweep_fusion_alpha.py \\
        configs/mafsar/mafsar_vit-tiny_5w1s_synthetic-temporal.py \\
        work_dirs/x/iter_200.pth --num-episodes 500 --out alpha.json
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mafsar_mm.engine import EpisodeFeatureCache
from mafsar_mm.evaluation import mean_and_ci95
from mafsar_mm.utils.atomic_files import atomic_write
from mafsar_mm.utils.errors import UserError, run_main

DEFAULT_ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='trained checkpoint')
    parser.add_argument('--split', default='val', choices=['val', 'test'],
                        help='episodes of this dataloader (default: val)')
    parser.add_argument('--num-episodes', type=int, default=None,
                        help="episodes (default: the dataloader's)")
    parser.add_argument('--alphas', type=float, nargs='+',
                        default=list(DEFAULT_ALPHAS),
                        help='weights of the text branch, in [0, 1]')
    parser.add_argument('--work-dir', default=None,
                        help='MMEngine work dir of the run (default: next '
                        'to --out, or work_dirs/sweep_fusion_alpha)')
    parser.add_argument('--out', default=None, help='write the result JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='override config settings')
    parser.add_argument('--debug', action='store_true',
                        help='show stack traces of errors')
    return parser.parse_args(argv)


def check_alphas(alphas: Sequence[float]) -> None:
    """Raise a UserError unless every weight lies in ``[0, 1]``."""
    bad = [a for a in alphas if not 0 <= a <= 1]
    if bad:
        raise UserError(f'--alphas must lie in [0, 1], got {bad}')


def sweep_alpha(model: torch.nn.Module, dataset,
                alphas: Sequence[float]) -> Dict[float, list]:
    """Per-episode accuracies (%) for each text weight.

    The videos are encoded once (:class:`EpisodeFeatureCache`, as the test
    loop does); every weight then predicts each episode through the
    model's own ``predict_by_feat``.

    Args:
        model (torch.nn.Module): A :class:`FewShotRecognizer` whose head has
            a text branch.
        dataset (FewShotVideoDataset): The episodes (test mode).
        alphas (Sequence[float]): Text weights in ``[0, 1]``.

    Returns:
        dict[float, list[float]]: Accuracy of every episode per weight.
    """
    check_alphas(alphas)
    head = model.head
    if not head.uses_text:
        raise UserError('This model has no text branch (model.head.alpha '
                        'and predict_alpha are 0): there is no fusion '
                        'weight to choose.')
    cache = EpisodeFeatureCache(model.eval(), dataset).build()
    configured = head.predict_alpha
    accs = {a: [] for a in alphas}
    try:
        for a in alphas:
            head.predict_alpha = a
            for episode_id in range(len(dataset)):
                sample = cache.predict_episode(episode_id)
                accs[a].append(100.0 * (
                    sample.pred_labels == sample.query_labels).float().mean(
                    ).item())
    finally:
        head.predict_alpha = configured
    return accs


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    check_alphas(args.alphas)
    cfg.merge_from_dict(args.cfg_options)
    loader = cfg.get(f'{args.split}_dataloader')
    if loader is None:
        raise UserError(f'{args.config} has no {args.split}_dataloader; '
                        'choose another --split')
    if args.num_episodes is not None:
        loader.dataset.num_episodes = args.num_episodes
    cfg.test_dataloader = loader
    cfg.load_from = None
    cfg.work_dir = args.work_dir or (
        osp.join(osp.dirname(osp.abspath(args.out)), 'sweep_fusion_alpha')
        if args.out else 'work_dirs/sweep_fusion_alpha')
    if not osp.isfile(args.checkpoint):
        raise UserError(f'checkpoint {args.checkpoint} does not exist')
    runner = Runner.from_cfg(cfg)
    runner.load_checkpoint(args.checkpoint)
    configured = runner.model.head.predict_alpha
    accs = sweep_alpha(runner.model,
                       runner.build_dataloader(loader).dataset, args.alphas)
    rows = []
    for a in args.alphas:
        mean, ci = mean_and_ci95(accs[a])
        rows.append(dict(alpha=a, acc=mean, ci95=ci))
        print(f'predict_alpha {a:.2f}: {mean:.2f} +/- {ci:.2f} % '
              f'({args.split}, {len(accs[a])} episodes)')
    # the best on this split; ties go to the configured weight, then to the
    # smaller one
    best = max(rows, key=lambda r: (round(r['acc'], 6),
                                    r['alpha'] == configured, -r['alpha']))
    print(f"best predict_alpha on {args.split}: {best['alpha']:.2f} "
          f"(configured: {configured:.2f})")
    if args.out:
        atomic_write(
            json.dumps(dict(split=args.split, configured=configured,
                            best=best['alpha'], rows=rows), indent=1),
            args.out)


if __name__ == '__main__':
    sys.exit(run_main(main))
