"""Loops: training over an endless, resumable episode stream, and
validation and test with cached per-video encoder features."""
import itertools
import time
from typing import Dict, List, Sequence, Union

import numpy as np
import torch
from mmaction.registry import LOOPS
from mmengine.dist import get_rank
from mmengine.hooks import IterTimerHook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import (IterBasedTrainLoop, TestLoop, ValLoop,
                             set_random_seed)
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from mafsar_mm.datasets import log_batch_bad_videos
from .episode_feature_cache import EpisodeFeatureCache


@LOOPS.register_module()
class EpisodicTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` (same arguments) with an exact, cheap resume.

    On resume the :class:`EpisodeSampler` continues at ``iter *
    batch_size``, and the batches MMEngine's ``run`` skips are not loaded.
    Each iteration seeds the global generators from ``(seed, rank,
    iter)``, so dropout is the same in a resumed run as in an unbroken
    one. Bad videos replaced on any worker or rank are logged once.
    """

    def run(self) -> torch.nn.Module:
        """Launch training, continuing the episode stream on resume."""
        batch_sampler = self.dataloader.batch_sampler
        sampler = getattr(batch_sampler, 'sampler', self.dataloader.sampler)
        if self._iter > 0 and hasattr(sampler, 'set_start'):
            sampler.set_start(self._iter * batch_sampler.batch_size)
            print_log(
                f'Resuming the episode stream at iteration {self._iter}',
                logger='current')
            self.dataloader_iterator = itertools.chain(
                itertools.repeat(None, self._iter),
                _InfiniteDataloaderIterator(self.dataloader))
        return super().run()

    def run_iter(self, data_batch: Sequence[dict]) -> None:
        """Seed from ``(seed, rank, iter)``, then run one iteration."""
        seed = self.runner.seed if self.runner.seed is not None else 0
        state = np.random.SeedSequence([seed, get_rank(), self._iter])
        set_random_seed(int(state.generate_state(1)[0]))  # MMEngine's
        log_batch_bad_videos(data_batch)
        super().run_iter(data_batch)


class _FeatureCacheLoop:
    """The options and the cached run of the val and test loops (see
    :class:`FewShotValLoop`)."""
    stage = ''

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 fp16: bool = False,
                 feature_cache: bool = True,
                 encode_batch_size: int = 8) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.feature_cache = feature_cache
        self.encode_batch_size = encode_batch_size

    def run(self) -> dict:
        """MMEngine's run or, with ``feature_cache``, the same hooks around
        one iteration per episode, scored from the cache."""
        if not self.feature_cache:
            return super().run()
        runner, stage = self.runner, self.stage
        runner.call_hook(f'before_{stage}')
        runner.call_hook(f'before_{stage}_epoch')
        runner.model.eval()
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        cache = EpisodeFeatureCache(model, self.dataloader.dataset,
                                    self.encode_batch_size,
                                    self.dataloader.num_workers,
                                    self.fp16).build()
        # IterTimerHook started its clock in before_*_epoch: the encoding
        # is no episode's data time (nor, times the episodes, the ETA)
        for hook in runner.hooks:
            if isinstance(hook, IterTimerHook):
                hook.t = time.time()
        for idx, episode_id in enumerate(self.dataloader.sampler):
            runner.call_hook(
                f'before_{stage}_iter', batch_idx=idx, data_batch={})
            outputs = [cache.predict_episode(episode_id)]
            self.evaluator.process(data_samples=outputs, data_batch={})
            runner.call_hook(
                f'after_{stage}_iter',
                batch_idx=idx,
                data_batch={},
                outputs=outputs)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        runner.call_hook(f'after_{stage}')
        return metrics

    def run_iter(self, idx: int, data_batch) -> None:
        """Log replaced bad videos once per run, then as MMEngine."""
        log_batch_bad_videos(data_batch)
        super().run_iter(idx, data_batch)


@LOOPS.register_module()
class FewShotValLoop(_FeatureCacheLoop, ValLoop):
    """``ValLoop`` that can evaluate episodes from cached features.

    Args:
        runner, dataloader, evaluator, fp16: As for ``ValLoop`` (``fp16``
            applies to the cached path too).
        feature_cache (bool): Encode every video once and run only the
            head per episode (the plain path's results). Defaults to True.
        encode_batch_size (int): Videos per encoder call when caching.
            Defaults to 8.
    """
    stage = 'val'


@LOOPS.register_module()
class FewShotTestLoop(_FeatureCacheLoop, TestLoop):
    """``TestLoop`` that can evaluate episodes from cached features (the
    arguments of :class:`FewShotValLoop`)."""
    stage = 'test'
