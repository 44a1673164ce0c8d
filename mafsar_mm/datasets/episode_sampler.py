"""Samplers of episode ids, for training and for testing."""
import math
from typing import Iterator, Optional, Sized

import numpy as np
from mmaction.registry import DATA_SAMPLERS
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class EpisodeSampler(Sampler):
    """Yields episode ids for :class:`FewShotVideoDataset`.

    Training (``shuffle=True``): an endless stream per rank; the id at
    position ``p`` on rank ``r`` is drawn from ``SeedSequence((seed, r,
    p))``, so it does not depend on what came before and a resumed run
    continues the same stream (:meth:`set_start`).

    Testing (``shuffle=False``): the fixed ids ``0..len(dataset)-1`` dealt
    out over ranks as MMEngine's ``DefaultSampler`` does (rank ``r`` takes
    ``r, r + W, ...``, padded to a multiple of ``W``), so the collected
    results are the same episodes whatever the number of processes.
    :class:`~mafsar_mm.evaluation.FewShotAccuracy` relies on this layout:
    a rank's last episode is a padding repeat when its position
    ``r + (count - 1) * W`` is at least ``len(dataset)``. It is not
    ``DefaultSampler(shuffle=False)`` itself because that one lists all
    its indices in ``__iter__`` (``torch.arange(len(dataset)).tolist()``,
    padded) while this one computes them, so memory does not grow with the
    number of test episodes (issue 23, item 9).

    Args:
        dataset (Sized): The episode dataset.
        shuffle (bool): Training stream if True, fixed test ids if False.
            Defaults to True.
        seed (int, optional): Seed of the training stream; synchronised
            over ranks when None. Defaults to None.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        rank, world_size = get_dist_info()
        self.rank = rank
        self.world_size = world_size
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.start = 0
        self.num_samples = math.ceil(len(dataset) / world_size)
        self.total_size = self.num_samples * world_size

    def episode_id(self, position: int) -> int:
        """The training episode id at ``position`` of this rank's stream."""
        state = np.random.SeedSequence(
            [self.seed, self.rank, position]).generate_state(1, np.uint64)
        return int(state[0] >> np.uint64(1))

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            position = self.start
            while True:
                yield self.episode_id(position)
                position += 1
        # position p of the padded id list is id p % n; computed, not
        # listed, so memory does not grow with the number of episodes
        # (MMEngine's DefaultSampler lists them: 1e9 episodes would need
        # tens of GB)
        num_episodes = len(self.dataset)
        for position in range(self.rank, self.total_size, self.world_size):
            yield position % num_episodes

    def __len__(self) -> int:
        return self.num_samples

    def set_start(self, position: int) -> None:
        """Continue the training stream from ``position`` (for resume)."""
        self.start = int(position)

    def set_epoch(self, epoch: int) -> None:
        """Episodes do not depend on the epoch; kept for MMEngine."""
