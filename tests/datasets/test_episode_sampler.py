import itertools
from unittest import mock

import pytest

from mafsar_mm.datasets import EpisodeSampler


class _Episodes:

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def make_sampler(rank, world_size, n=10, shuffle=False, seed=3):
    with mock.patch('mafsar_mm.datasets.episode_sampler.get_dist_info',
                    return_value=(rank, world_size)):
        return EpisodeSampler(_Episodes(n), shuffle=shuffle, seed=seed)


@pytest.mark.parametrize('world_size', [1, 2, 3, 4])
def test_test_ids_split_over_ranks_cover_all_episodes(world_size):
    parts = [list(make_sampler(r, world_size)) for r in range(world_size)]
    assert len({len(p) for p in parts}) == 1
    # interleave as MMEngine's collect_results does, then truncate
    merged = [i for group in itertools.zip_longest(*parts) for i in group
              if i is not None][:10]
    assert merged == list(range(10))
    # padding repeats the first ids only
    assert sum(len(p) for p in parts) - 10 < world_size


def test_train_stream_is_deterministic_and_rank_specific():
    a = list(itertools.islice(make_sampler(0, 2, shuffle=True), 20))
    b = list(itertools.islice(make_sampler(0, 2, shuffle=True), 20))
    c = list(itertools.islice(make_sampler(1, 2, shuffle=True), 20))
    d = list(itertools.islice(make_sampler(0, 2, shuffle=True, seed=4), 20))
    assert a == b
    assert len(set(a)) == 20
    assert not set(a) & set(c)
    assert a != d
    assert all(0 <= i < 2**63 for i in a)


def test_train_stream_resumes_at_position():
    full = list(itertools.islice(make_sampler(1, 2, shuffle=True), 12))
    resumed = make_sampler(1, 2, shuffle=True)
    resumed.set_start(7)
    assert list(itertools.islice(resumed, 5)) == full[7:]
