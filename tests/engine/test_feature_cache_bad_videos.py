"""Bad videos in the cached test loop behave as in the plain path."""
import os.path as osp
from unittest import mock

import pytest
import torch
from _reliability import micro_config
from mmaction.registry import DATASETS, MODELS
from mmengine.runner import Runner

import mafsar_mm  # noqa: F401
from mafsar_mm.datasets import BadVideoError
from mafsar_mm.engine import EpisodeFeatureCache


@pytest.fixture(scope='module')
def split_with_bad_video(synthetic_root, tmp_path_factory):
    """Five test classes (every episode uses all of them); the first one
    has three good videos and an empty file."""
    root = tmp_path_factory.mktemp('bad_video')
    bad = str(root / 'broken.mp4')
    open(bad, 'wb').close()
    lines = open(osp.join(synthetic_root, 'test.txt')).read().split('\n')
    labels = sorted({int(ln.split()[1]) for ln in lines if ln})[:5]
    keep = [ln for ln in lines if ln and int(ln.split()[1]) in labels]
    first = [ln for ln in keep if int(ln.split()[1]) == labels[0]]
    keep.remove(first[0])
    ann = str(root / 'test_with_bad.txt')
    with open(ann, 'w') as f:
        f.write('\n'.join([f'{bad} {labels[0]}'] + keep) + '\n')
    return ann, bad


def _dataset(cfg, ann, **kwargs):
    cfg.test_dataloader.dataset.update(ann_file=ann, **kwargs)
    return DATASETS.build(cfg.test_dataloader.dataset)


def test_cached_test_loop_stops_naming_the_file(synthetic_root, tmp_path,
                                                split_with_bad_video):
    ann, bad = split_with_bad_video
    cfg = micro_config(synthetic_root, str(tmp_path))
    cfg.test_dataloader.dataset.ann_file = ann
    assert cfg.test_cfg.feature_cache
    cfg.experiment_name = 'reliability_bad_video'
    runner = Runner.from_cfg(cfg)
    with pytest.raises(BadVideoError) as info:
        runner.test()
    assert info.value.path == bad
    assert bad in str(info.value)
    assert 'tools/data/check_videos.py' in str(info.value)
    assert "bad_video='replace'" in str(info.value)  # how to skip


def test_cached_path_replaces_like_plain_path(synthetic_root, tmp_path,
                                              split_with_bad_video):
    ann, bad = split_with_bad_video
    cfg = micro_config(synthetic_root, str(tmp_path))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    logged = []
    for cached in (True, False):
        dataset = _dataset(cfg, ann, bad_video='replace', num_episodes=4)
        with mock.patch('mafsar_mm.datasets.video_loading.print_log') as \
                log, mock.patch('mafsar_mm.datasets.video_loading._logged',
                                set()):
            if cached:
                cache = EpisodeFeatureCache(model, dataset).build()
                samples = [cache.predict_episode(i) for i in range(4)]
            else:
                samples = []
                for i in range(4):
                    item = dataset[i]
                    data = model.data_preprocessor(
                        dict(
                            inputs=[item['inputs']],
                            data_samples=[item['data_samples']]), False)
                    with torch.no_grad():
                        samples += model.predict(data['inputs'],
                                                 data['data_samples'])
        logged.append(
            sum(f'Skipping bad video {bad}' in c.args[0]
                for c in log.call_args_list))
        if cached:
            cached_samples = samples
    assert logged == [1, 1]  # logged once, in both paths
    for ours, plain in zip(cached_samples, samples):
        assert bad not in ours.video_ids
        assert ours.video_ids == plain.video_ids
        assert torch.allclose(ours.pred_scores, plain.pred_scores, atol=1e-5)
        assert torch.equal(ours.pred_labels, plain.pred_labels)


def test_cached_error_counts_every_bad_video(synthetic_root, tmp_path):
    """Five bad videos in five encoder batches: the message counts all of
    them, not only those of the first batch."""
    lines = open(osp.join(synthetic_root, 'test.txt')).read().split('\n')
    labels = sorted({int(ln.split()[1]) for ln in lines if ln})[:5]
    keep = [ln for ln in lines if ln and int(ln.split()[1]) in labels]
    bad = []
    for label in labels:
        path = str(tmp_path / f'broken_{label}.mp4')
        open(path, 'wb').close()
        bad.append(f'{path} {label}')
    ann = str(tmp_path / 'test_bad.txt')
    with open(ann, 'w') as f:
        f.write('\n'.join(bad + keep) + '\n')
    cfg = micro_config(synthetic_root, str(tmp_path))
    model = MODELS.build(cfg.model).eval()
    dataset = _dataset(cfg, ann)
    first = sorted(b.split()[0] for b in bad)[0]
    with pytest.raises(BadVideoError) as info:
        EpisodeFeatureCache(model, dataset, batch_size=2).build()
    assert info.value.path == first
    assert info.value.reason.endswith(
        ' (and 4 more bad videos in the list)')
