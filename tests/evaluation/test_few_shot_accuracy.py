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
