"""Few-shot accuracy: mean over episodes with a 95% confidence interval."""
import json
import math
import os.path as osp
from fractions import Fraction
from itertools import zip_longest
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.dist import get_dist_info
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


def moments_mean_and_ci95(moments: Dict[int, Sequence[int]]) -> tuple:
    """:func:`mean_and_ci95` from integer sums instead of a list.

    An episode with ``q`` queries of which ``c`` are right has accuracy
    ``c / q``; ``moments[q] = [episodes, sum of c, sum of c ** 2]`` over
    the episodes with ``q`` queries. Mean and population variance are
    computed exactly (rational numbers) and rounded once, so they equal
    the list-based result up to its own rounding.

    Args:
        moments (dict[int, Sequence[int]]): Integer sums per query count.

    Returns:
        tuple[float, float]: ``(mean, ci95)`` as fractions of 1.
    """
    count = sum(m[0] for m in moments.values())
    if count == 0:
        raise ValueError('No episodes to average')
    acc_sum = sum(Fraction(m[1], q) for q, m in moments.items())
    acc_sq_sum = sum(Fraction(m[2], q * q) for q, m in moments.items())
    mean = acc_sum / count
    variance = acc_sq_sum / count - mean * mean
    return float(mean), 1.96 * math.sqrt(variance) / math.sqrt(count)


@METRICS.register_module()
class FewShotAccuracy(BaseMetric):
    """Accuracy per episode, then mean and 95% CI over episodes, in %.

    Memory does not grow with the number of episodes: each process keeps
    one record of integer sums (per number of queries: episodes, right
    queries and the sum of their squares), so ``self.results`` holds one
    item per process and MMEngine's collection over ranks gathers one
    record from each. Mean and CI are exact (see
    :func:`moments_mean_and_ci95`). The last episode of each process is
    kept apart until :meth:`evaluate`, which knows the number of episodes
    and drops it if it is a padding repeat (the samplers deal positions
    ``rank, rank + world_size, ...`` padded to a multiple of the world
    size, as MMEngine's ``DefaultSampler`` and
    :class:`~mafsar_mm.datasets.EpisodeSampler` do).

    Args:
        collect_device (str): Device to gather results over ranks.
            Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to None,
            which uses ``'fewshot'``.
        query_dump_file (str, optional): Also write every episode's
            class names, query labels, predicted labels and query video
            ids to this JSON file (rank 0), for per-class analyses such as
            ``tools/analysis/compare_methods.py``. These records grow with
            the number of episodes, like the file. Defaults to None.
    """
    default_prefix = 'fewshot'

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 query_dump_file: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.query_dump_file = query_dump_file
        self._size = None

    def _partial(self) -> dict:
        """This process's record of sums (``self.results[0]``)."""
        if not self.results:
            rank, world_size = get_dist_info()
            self.results.append(
                dict(
                    rank=rank,
                    world_size=world_size,
                    count=0,
                    moments={},
                    last=None,
                    episodes=[]))
        return self.results[0]

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Add the accuracy of each episode of the batch to the sums."""
        partial = self._partial()
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            pred = sample['pred_labels'].cpu()
            gt = sample['query_labels'].cpu()
            num_queries = int(gt.numel())
            if num_queries == 0:
                raise ValueError(
                    f'Episode {sample.get("episode_id", -1)} has no '
                    'queries: no accuracy to compute')
            if partial['last'] is not None:
                _add(partial['moments'], *partial['last'])
            partial['last'] = (num_queries, int((pred == gt).sum()))
            partial['count'] += 1
            if self.query_dump_file is not None:
                video_ids = list(sample.get('video_ids', []))
                partial['episodes'].append(
                    dict(
                        episode_id=sample.get('episode_id', -1),
                        class_names=list(sample.get('class_names', [])),
                        query_labels=gt.tolist(),
                        pred_labels=pred.tolist(),
                        query_video_ids=video_ids[len(video_ids) -
                                                  num_queries:]))

    def evaluate(self, size: int) -> dict:
        """MMEngine's ``evaluate``, remembering ``size`` (the number of
        episodes) to drop the padding repeats."""
        self._partial()  # one record per rank, also without episodes
        self._size = size
        try:
            return super().evaluate(size)
        finally:
            self._size = None

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Mean accuracy and its 95% CI over the episodes, in %.

        Args:
            results (list[dict]): The records of all processes.
        """
        moments, episodes = {}, []
        for partial in sorted(results, key=lambda p: p['rank']):
            for q, (n, c, c2) in partial['moments'].items():
                total = moments.setdefault(q, [0, 0, 0])
                total[0] += n
                total[1] += c
                total[2] += c2
            records = partial['episodes']
            if partial['last'] is not None:
                last_position = partial['rank'] + (
                    partial['count'] - 1) * partial['world_size']
                if self._size is None or last_position < self._size:
                    _add(moments, *partial['last'])
                elif records:
                    records = records[:-1]
            episodes.append(records)
        count = sum(m[0] for m in moments.values())
        mean, ci95 = moments_mean_and_ci95(moments)
        metrics = dict(acc=100 * mean, ci95=100 * ci95, episodes=count)
        print_log(
            f'Few-shot accuracy: {100 * mean:.2f} +/- {100 * ci95:.2f} % '
            f'(95% CI) over {count} episodes',
            logger='current')
        if self.query_dump_file is not None:
            # rank-interleaved, as MMEngine orders collected results
            self._dump_queries([
                r for group in zip_longest(*episodes) for r in group
                if r is not None
            ])
        return metrics

    def _dump_queries(self, episodes: List[dict]) -> None:
        """Write the per-query records of all episodes as JSON."""
        folder = osp.dirname(osp.abspath(self.query_dump_file))
        mkdir_or_exist(folder)
        with open(self.query_dump_file, 'w') as f:
            json.dump(dict(episodes=episodes), f)
        print_log(f'Per-query predictions written to '
                  f'{self.query_dump_file}', logger='current')


def _add(moments: Dict[int, list], num_queries: int, correct: int) -> None:
    """Add one episode to the integer sums ``moments``."""
    total = moments.setdefault(num_queries, [0, 0, 0])
    total[0] += 1
    total[1] += correct
    total[2] += correct * correct
