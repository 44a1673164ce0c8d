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


@pytest.mark.parametrize('n, world_size', [(10, 3), (7, 4), (5, 8)])
def test_test_ids_are_the_padded_list_dealt_over_ranks(n, world_size):
    """The lazy ids equal MMEngine's DefaultSampler's listed ones (the
    padded list ``ids * k`` cut at ``total_size``, rank ``r`` taking every
    ``W``-th from ``r``)."""
    listed = list(range(n)) * world_size
    total = -(-n // world_size) * world_size
    for rank in range(world_size):
        assert list(make_sampler(rank, world_size, n=n)) == \
            listed[:total][rank::world_size]


def test_test_sampler_memory_does_not_grow_with_episodes():
    """Issue 23 item 9: ``--num-episodes 1000000000`` must not list the
    ids; the first ids cost the same memory at 1e3 and 1e9 episodes."""
    import tracemalloc

    def peak(n):
        tracemalloc.start()
        sampler = make_sampler(0, 2, n=n)
        first = list(itertools.islice(iter(sampler), 100))
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert first == list(range(0, 200, 2))
        return size

    small, huge = peak(10**3), peak(10**9)
    assert huge < small + 64 * 1024, (small, huge)
