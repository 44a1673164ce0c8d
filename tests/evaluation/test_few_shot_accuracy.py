import math

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mafsar_mm.evaluation import FewShotAccuracy, mean_and_ci95


def test_mean_and_ci95_matches_hand_computation():
    acc = [1.0, 0.6, 0.8, 0.2]
    mean = sum(acc) / 4
    var = sum((a - mean)**2 for a in acc) / 4
    m, ci = mean_and_ci95(acc)
    assert m == pytest.approx(0.65)
    assert ci == pytest.approx(1.96 * math.sqrt(var) / 2)


def test_mean_and_ci95_rejects_empty():
    with pytest.raises(ValueError, match='No episodes'):
        mean_and_ci95([])


def test_metric_per_episode_accuracy_in_percent():
    metric = FewShotAccuracy()
    samples = []
    for pred, gt in (([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]),
                     ([1, 1, 2, 0, 4], [0, 1, 2, 3, 4])):
        s = BaseDataElement(metainfo=dict(episode_id=len(samples)))
        s.pred_labels = torch.tensor(pred)
        s.query_labels = torch.tensor(gt)
        samples.append(s)
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    accs = np.array([1.0, 0.6])
    assert out['acc'] == pytest.approx(80.0)
    assert out['ci95'] == pytest.approx(100 * 1.96 * accs.std() / 2 ** 0.5)
    assert out['episodes'] == 2


def test_metric_dumps_per_query_predictions(tmp_path):
    import json
    out = tmp_path / 'sub' / 'queries.json'
    metric = FewShotAccuracy(query_dump_file=str(out))
    s = BaseDataElement(
        metainfo=dict(
            episode_id=3,
            class_names=['a', 'b'],
            video_ids=['sa', 'sb', 'qa', 'qb']))
    s.pred_labels = torch.tensor([1, 1])
    s.query_labels = torch.tensor([0, 1])
    metric.process({}, [s])
    metrics = metric.compute_metrics(metric.results)
    assert set(metrics) == {'acc', 'ci95', 'episodes'}
    assert metrics['acc'] == pytest.approx(50.0)
    episodes = json.loads(out.read_text())['episodes']
    assert episodes == [
        dict(episode_id=3, class_names=['a', 'b'], query_labels=[0, 1],
             pred_labels=[1, 1], query_video_ids=['qa', 'qb'])
    ]


def _sample(episode_id, pred, gt):
    s = BaseDataElement(metainfo=dict(episode_id=episode_id))
    s.pred_labels = torch.tensor(pred)
    s.query_labels = torch.tensor(gt)
    return s


def _random_episodes(rng, count, queries=(5, )):
    episodes = []
    for i in range(count):
        q = int(rng.choice(queries))
        gt = rng.integers(0, 5, q)
        pred = np.where(rng.random(q) < 0.6, gt, rng.integers(0, 5, q))
        episodes.append((i, pred.tolist(), gt.tolist()))
    return episodes


def _old_metrics(episodes):
    """The per-episode list computation the running sums replace."""
    accs = [float(np.mean(np.array(p) == np.array(g)))
            for _, p, g in episodes]
    mean, ci = mean_and_ci95(accs)
    return 100 * mean, 100 * ci


@pytest.mark.parametrize('queries', [(5, ), (1, 3, 5, 25)])
def test_running_sums_match_list_computation(queries):
    rng = np.random.default_rng(len(queries))
    episodes = _random_episodes(rng, 2000, queries)
    metric = FewShotAccuracy()
    for i in range(0, len(episodes), 7):
        metric.process({}, [_sample(*e) for e in episodes[i:i + 7]])
    assert len(metric.results) == 1  # constant size, not one per episode
    out = metric.compute_metrics(metric.results)
    acc, ci = _old_metrics(episodes)
    assert out['episodes'] == 2000
    assert out['acc'] == pytest.approx(acc, rel=1e-13, abs=0)
    assert out['ci95'] == pytest.approx(ci, rel=1e-11, abs=0)
    assert 0 < out['ci95'] < 5
    # the replaced code took each episode's accuracy in float32 (torch
    # ``.float().mean()``): the same up to that rounding
    acc32 = [
        float((torch.tensor(p) == torch.tensor(g)).float().mean())
        for _, p, g in episodes
    ]
    mean32, ci32 = mean_and_ci95(acc32)
    assert out['acc'] == pytest.approx(100 * mean32, rel=1e-6, abs=0)
    assert out['ci95'] == pytest.approx(100 * ci32, rel=1e-5, abs=0)


def test_all_equal_accuracies_give_zero_ci():
    metric = FewShotAccuracy()
    metric.process({}, [_sample(i, [0, 1, 1], [0, 1, 2]) for i in range(9)])
    out = metric.compute_metrics(metric.results)
    assert out['acc'] == pytest.approx(200 / 3, rel=1e-15)
    assert out['ci95'] == 0.0


def test_episode_without_queries_is_refused():
    metric = FewShotAccuracy()
    with pytest.raises(ValueError, match='Episode 4 has no queries'):
        metric.process({}, [_sample(4, [], [])])


@pytest.mark.parametrize('num_episodes,world_size', [(10, 3), (9, 3),
                                                     (2, 4), (7, 1)])
def test_distributed_records_drop_padding(monkeypatch, num_episodes,
                                          world_size):
    """Each rank keeps one record; the padding repeats (positions >= the
    number of episodes, dealt as EpisodeSampler and DefaultSampler do) are
    dropped as MMEngine's ``collect_results`` drops them from lists."""
    import mafsar_mm.evaluation.few_shot_accuracy as module
    from mafsar_mm.datasets import EpisodeSampler
    rng = np.random.default_rng(num_episodes)
    episodes = _random_episodes(rng, num_episodes, (1, 5))
    records = []
    for rank in range(world_size):
        monkeypatch.setattr(module, 'get_dist_info',
                            lambda r=rank: (r, world_size))
        monkeypatch.setattr('mafsar_mm.datasets.episode_sampler.'
                            'get_dist_info', lambda r=rank: (r, world_size))
        sampler = EpisodeSampler(range(num_episodes), shuffle=False, seed=0)
        metric = FewShotAccuracy()
        ids = list(sampler)
        metric.process({}, [_sample(*episodes[i]) for i in ids])
        assert len(metric.results) == 1
        records += metric.results
    # MMEngine's cpu collection: interleave the ranks' lists, cut to size
    collected = records[:num_episodes]
    metric._size = num_episodes
    out = metric.compute_metrics(collected)
    acc, ci = _old_metrics(episodes)
    assert out['episodes'] == num_episodes
    assert out['acc'] == pytest.approx(acc, rel=1e-13, abs=0)
    assert out['ci95'] == pytest.approx(ci, rel=1e-11, abs=1e-12)


def test_query_dump_keeps_episode_order_without_padding(tmp_path,
                                                        monkeypatch):
    import json

    import mafsar_mm.evaluation.few_shot_accuracy as module
    out = tmp_path / 'q.json'
    records = []
    for rank in range(2):
        monkeypatch.setattr(module, 'get_dist_info', lambda r=rank: (r, 2))
        metric = FewShotAccuracy(query_dump_file=str(out))
        # 3 episodes on 2 ranks: rank 1 gets 1 and the padding repeat 0
        ids = [0, 2] if rank == 0 else [1, 0]
        metric.process({}, [_sample(i, [0], [i % 2]) for i in ids])
        records += metric.results
    metric._size = 3
    metrics = metric.compute_metrics(records)
    assert metrics['episodes'] == 3
    assert metrics['acc'] == pytest.approx(100 * 2 / 3)
    dumped = json.loads(out.read_text())['episodes']
    assert [e['episode_id'] for e in dumped] == [0, 1, 2]
