"""Few-shot accuracy: mean over episodes with a 95% confidence interval."""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log


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
    """
    default_prefix = 'fewshot'

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store the accuracy of each episode of the batch."""
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            pred = sample['pred_labels'].cpu()
            gt = sample['query_labels'].cpu()
            self.results.append(
                dict(
                    episode_id=sample.get('episode_id', -1),
                    acc=float((pred == gt).float().mean()),
                    num_queries=int(gt.numel())))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Mean accuracy and its 95% CI over the episodes, in %."""
        mean, ci95 = mean_and_ci95([r['acc'] for r in results])
        metrics = dict(
            acc=100 * mean, ci95=100 * ci95, episodes=len(results))
        print_log(
            f'Few-shot accuracy: {100 * mean:.2f} +/- {100 * ci95:.2f} % '
            f'(95% CI) over {len(results)} episodes',
            logger='current')
        return metrics
