"""Few-shot accuracy: mean over episodes with a 95% confidence interval."""
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist


def mean_and_ci95(accuracies: Sequence[float]) -> tuple:
    """Mean and 95% confidence half-width of per-episode accuracies.

    Uses the FSAR convention ``1.96 * std / sqrt(n)`` with the population
    standard deviation (as in TRX, github.com/tobyperrett/trx, and
    CLIP-FSAR).

    Args:
        accuracies (Sequence[float]): One accuracy per episode.

    Returns:
        tuple[float, float]: ``(mean, ci95)`` in the unit of the input.
    """
    acc = np.asarray(accuracies, dtype=np.float64)
    if acc.size == 0:
        raise ValueError('No episodes to average')
    return float(acc.mean()), float(1.96 * acc.std() / math.sqrt(acc.size))


@METRICS.register_module()
class FewShotAccuracy(BaseMetric):
    """Accuracy per episode, then mean and 95% CI over episodes, in %.

    Args:
        collect_device (str): Device to gather results over ranks.
            Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to None,
            which uses ``'fewshot'``.
        query_dump_file (str, optional): Also write every episode's
            class names, query labels, predicted labels and query video
            ids to this JSON file (rank 0), for per-class analyses such as
            ``tools/analysis/compare_methods.py``. Defaults to None.
    """
    default_prefix = 'fewshot'

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 query_dump_file: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.query_dump_file = query_dump_file

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store the accuracy of each episode of the batch."""
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            pred = sample['pred_labels'].cpu()
            gt = sample['query_labels'].cpu()
            result = dict(
                episode_id=sample.get('episode_id', -1),
                acc=float((pred == gt).float().mean()),
                num_queries=int(gt.numel()))
            if self.query_dump_file is not None:
                video_ids = list(sample.get('video_ids', []))
                result.update(
                    class_names=list(sample.get('class_names', [])),
                    query_labels=gt.tolist(),
                    pred_labels=pred.tolist(),
                    query_video_ids=video_ids[len(video_ids) - gt.numel():])
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Mean accuracy and its 95% CI over the episodes, in %."""
        mean, ci95 = mean_and_ci95([r['acc'] for r in results])
        metrics = dict(
            acc=100 * mean, ci95=100 * ci95, episodes=len(results))
        print_log(
            f'Few-shot accuracy: {100 * mean:.2f} +/- {100 * ci95:.2f} % '
            f'(95% CI) over {len(results)} episodes',
            logger='current')
        if self.query_dump_file is not None:
            self._dump_queries(results)
        return metrics

    def _dump_queries(self, results: List[dict]) -> None:
        """Write the per-query records of all episodes as JSON."""
        folder = osp.dirname(osp.abspath(self.query_dump_file))
        mkdir_or_exist(folder)
        keys = ('episode_id', 'class_names', 'query_labels', 'pred_labels',
                'query_video_ids')
        episodes = [{k: r[k] for k in keys} for r in results]
        with open(self.query_dump_file, 'w') as f:
            json.dump(dict(episodes=episodes), f)
        print_log(f'Per-query predictions written to '
                  f'{self.query_dump_file}', logger='current')
