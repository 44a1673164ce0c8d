"""Iteration-based training over an endless, resumable episode stream."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmaction.registry import LOOPS
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop, set_random_seed
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mafsar_mm.datasets import log_batch_bad_videos


class _SkipFirst:
    """Answer the first ``n`` ``next`` calls with None, then delegate.

    ``IterBasedTrainLoop.run`` advances the dataloader ``iter`` times after
    a resume, decoding every skipped episode; the sampler is moved to the
    right position instead, so those calls need no data.
    """

    def __init__(self, iterator, n: int) -> None:
        self._iterator = iterator
        self._left = n

    def __iter__(self):
        return self

    def __next__(self):
        if self._left > 0:
            self._left -= 1
            return None
        return next(self._iterator)


@LOOPS.register_module()
class EpisodicTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` with exact, cheap resume for episodes.

    - On resume the :class:`EpisodeSampler` continues its stream at
      ``iter * batch_size`` instead of loading the skipped episodes.
    - Bad videos the workers of all ranks replaced are logged once per
      run, by rank 0.
    - Before every iteration the global generators are seeded from
      ``(seed, rank, iter)``, so dropout and other model randomness at
      iteration ``i`` are the same in a run that was stopped and resumed
      as in one that was not. (Augmentations are seeded per video by the
      dataset.)

    Args are those of ``IterBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 max_iters: int,
                 val_begin: int = 1,
                 val_interval: int = 1000,
                 dynamic_intervals: Optional[Sequence] = None) -> None:
        super().__init__(runner, dataloader, max_iters, val_begin,
                         val_interval, dynamic_intervals)
        self._rank = get_rank()

    def _episode_sampler(self):
        sampler = getattr(self.dataloader, 'sampler', None)
        batch_sampler = getattr(self.dataloader, 'batch_sampler', None)
        if not hasattr(sampler, 'set_start') and batch_sampler is not None:
            sampler = getattr(batch_sampler, 'sampler', None)
        return sampler if hasattr(sampler, 'set_start') else None

    def run(self) -> torch.nn.Module:
        """Launch training, continuing the episode stream on resume."""
        sampler = self._episode_sampler()
        if self._iter > 0 and sampler is not None:
            batch_size = self.dataloader.batch_sampler.batch_size
            sampler.set_start(self._iter * batch_size)
            print_log(
                f'Resuming the episode stream at iteration {self._iter}',
                logger='current')
            self.dataloader_iterator = _SkipFirst(
                _InfiniteDataloaderIterator(self.dataloader), self._iter)
        return super().run()

    def run_iter(self, data_batch: Sequence[dict]) -> None:
        """Seed from ``(seed, rank, iter)``, then run one iteration."""
        seed = self.runner.seed if self.runner.seed is not None else 0
        state = np.random.SeedSequence([seed, self._rank, self._iter])
        set_random_seed(int(state.generate_state(1)[0]))  # MMEngine's
        log_batch_bad_videos(data_batch)  # once per run, from any worker
        super().run_iter(data_batch)
