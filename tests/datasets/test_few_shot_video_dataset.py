
import os.path as osp
from unittest import mock

import pytest
import torch
from conftest import TEST_PIPELINE, TRAIN_PIPELINE

from mafsar_mm.datasets import BadVideoError, FewShotVideoDataset


def build(split, **kwargs):
    cfg = dict(split, pipeline=TEST_PIPELINE, n_way=3, k_shot=2, n_query=1,
               num_episodes=20, seed=0)
    cfg.update(kwargs)
    return FewShotVideoDataset(**cfg)


def test_episode_composition(video_split):
    ds = build(video_split, k_shot=2, n_query=2)
    for episode_id in range(10):
        item = ds[episode_id]
        sample = item['data_samples']
        # 3 classes x (2 support + 2 query) clips of [C, T, H, W]
        assert item['inputs'].shape == (12, 3, 4, 32, 32)
        assert item['inputs'].dtype == torch.uint8
        names = sample.class_names
        assert len(set(names)) == 3
        assert sample.support_labels.tolist() == [0, 0, 1, 1, 2, 2]
        assert sample.query_labels.tolist() == [0, 0, 1, 1, 2, 2]
        ids = sample.video_ids
        assert len(set(ids)) == 12  # support and query disjoint
        support, query = ids[:6], ids[6:]
        for label in range(3):
            # every video of a local class belongs to the named class
            global_label = ds.all_class_names.index(names[label])
            for path in support[2 * label:2 * label + 2] + \
                    query[2 * label:2 * label + 2]:
                assert path in ds.videos_of[global_label]


def test_episode_is_pure_function_of_seed_and_id(video_split):
    a, b = build(video_split), build(video_split)
    for i in (0, 3, 7):
        x, y = a[i], b[i]
        assert x['data_samples'].video_ids == y['data_samples'].video_ids
        assert torch.equal(x['inputs'], y['inputs'])
    other = build(video_split, seed=1)
    assert any(a[i]['data_samples'].video_ids !=
               other[i]['data_samples'].video_ids for i in range(5))


def test_train_augmentation_seeded_per_episode(video_split):
    ds = build(video_split, pipeline=TRAIN_PIPELINE, test_mode=False)
    first = ds[123456789]['inputs']
    torch.manual_seed(0)
    import numpy as np
    np.random.seed(99)  # global state must not matter
    assert torch.equal(first, ds[123456789]['inputs'])


def test_small_classes_left_out_with_warning(video_split, caplog):
    # k + q = 5: classes with 3 or 4 videos are excluded
    ds = build(video_split, k_shot=4, n_query=1)
    assert ds.episode_labels == [0, 1, 2, 3]
    for i in range(5):
        names = ds[i]['data_samples'].class_names
        assert set(names) <= {'class 0', 'class 1', 'class 2', 'class 3'}


def test_too_few_classes_with_enough_videos_is_an_error(video_split):
    with pytest.raises(ValueError, match='only 2 classes have at least'):
        build(video_split, n_way=3, k_shot=5, n_query=1)


def test_n_way_larger_than_classes_is_an_error(video_split):
    with pytest.raises(ValueError, match='n_way=9 is larger than the '
                       'number of classes'):
        build(video_split, n_way=9)


@pytest.mark.parametrize('key', ['k_shot', 'n_query', 'n_way'])
def test_non_positive_sizes_are_errors(video_split, key):
    with pytest.raises(ValueError, match=f'{key} must be an integer >= 1'):
        build(video_split, **{key: 0})


def test_missing_files_are_clear_errors(video_split):
    with pytest.raises(FileNotFoundError, match='Annotation file not found'):
        build(video_split, ann_file='nope.txt')
    with pytest.raises(FileNotFoundError, match='Class-name file not found'):
        build(video_split, class_name_file='nope.txt')


def test_class_names_not_matching_labels(video_split, tmp_path):
    names = tmp_path / 'few.txt'
    names.write_text('a\nb\n')
    with pytest.raises(ValueError, match='does not match'):
        build(video_split, class_name_file=str(names))


def _split_with_bad_video(tmp_path, video_split, content):
    root = video_split['data_root']
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(content)
    lines = open(osp.join(root, 'split.txt')).read().splitlines()
    lines = [ln for ln in lines if ln.split()[1] in ('0', '1', '2')]
    lines.insert(0, f'{bad} 0')
    ann = tmp_path / 'ann.txt'
    ann.write_text('\n'.join(lines) + '\n')
    return dict(video_split, ann_file=str(ann)), str(bad)


@pytest.mark.parametrize('content', [b'', b'not a video at all' * 10])
def test_bad_video_in_test_mode_names_the_file(tmp_path, video_split,
                                               content):
    split, bad = _split_with_bad_video(tmp_path, video_split, content)
    ds = build(split, n_way=2, k_shot=5, n_query=1, test_mode=True)
    with pytest.raises(BadVideoError, match='check_videos.py') as info:
        for i in range(20):
            ds[i]
    assert info.value.path == bad


def test_bad_video_in_training_is_replaced_and_logged_once(
        tmp_path, video_split):
    split, bad = _split_with_bad_video(tmp_path, video_split, b'')
    ds = build(split, n_way=2, k_shot=5, n_query=1, test_mode=False)
    with mock.patch('mafsar_mm.datasets.video_loading.print_log') as log, \
            mock.patch('mafsar_mm.datasets.video_loading._logged', set()):
        for i in range(12):
            sample = ds[i]['data_samples']
            assert bad not in sample.video_ids
            assert len(set(sample.video_ids)) == 12
    assert bad in ds._bad_videos
    messages = [c.args[0] for c in log.call_args_list]
    assert sum(f'Skipping bad video {bad}' in m for m in messages) == 1


def test_too_short_video_is_bad(tmp_path, video_split):
    from conftest import write_video
    short = tmp_path / 'short.mp4'
    write_video(str(short), num_frames=3)
    ds = build(video_split, min_frames=8)
    with pytest.raises(BadVideoError, match='3 frames, fewer than'):
        ds.load_video(str(short), seed=0)
