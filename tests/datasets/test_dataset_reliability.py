"""Duplicate videos in a list, classes whose videos are all bad, and each
bad video logged once per run (across workers and ranks)."""
import os.path as osp
import pickle
import re
from unittest import mock

import pytest
from conftest import TRAIN_PIPELINE
from torch.utils.data import DataLoader

from mafsar_mm.datasets import (BadVideoError, FewShotVideoDataset,
                                log_batch_bad_videos)
from mafsar_mm.utils.errors import InputError


def build(split, **kwargs):
    return FewShotVideoDataset(pipeline=TRAIN_PIPELINE, **split, **kwargs)


def _write_list(tmp_path, lines, name='ann.txt'):
    ann = tmp_path / name
    ann.write_text('\n'.join(lines) + '\n')
    return str(ann)


def test_duplicated_list_gives_no_repeated_file(tmp_path, video_split):
    lines = open(osp.join(video_split['data_root'],
                          'split.txt')).read().split()
    lines = [f'{p} {label}' for p, label in zip(lines[::2], lines[1::2])]
    ann = _write_list(tmp_path, lines + lines)  # `cat list list`
    split = dict(video_split, ann_file=ann)
    with mock.patch(
            'mafsar_mm.datasets.few_shot_video_dataset.print_log') as log:
        ds = build(split, n_way=3, k_shot=2, n_query=1)
    warnings = [
        c.args[0] for c in log.call_args_list if 'more than once' in c.args[0]
    ]
    assert warnings == [
        f'{ann}: 36 videos are listed more than once (36 extra lines, e.g. '
        f'{osp.realpath(osp.join(video_split["data_root"], "c0_v0.mp4"))})'
        '; each is used once, so no episode holds a video twice. Remove the '
        'repeated lines, or pass --strict to stop on them.'
    ]
    assert len(ds.video_list()) == len(set(ds.video_list())) == 36
    for episode_id in range(500):
        plan = ds.episode_plan(episode_id)
        videos = [v for per_class in plan['videos'] for v in per_class]
        assert len(videos) == len(set(videos)) == 9


@pytest.mark.parametrize('bad_file', ['ann_file', 'class_name_file'])
def test_non_utf8_byte_is_one_clear_error(tmp_path, video_split, bad_file):
    split = dict(video_split)
    src = open(osp.join(split['data_root'], split[bad_file]),
               'rb').read().splitlines(keepends=True)
    src[1] = src[1][:2] + b'\xff' + src[1][2:]
    path = tmp_path / osp.basename(split[bad_file])
    path.write_bytes(b''.join(src))
    split[bad_file] = str(path)
    message = (f'{path}:2: byte 0xff at column 3 is not valid UTF-8 '
               '(invalid start byte); save the file as UTF-8.')
    with pytest.raises(InputError, match=f'^{re.escape(message)}$'):
        build(split, n_way=3, k_shot=2, n_query=1)


def test_duplicates_are_an_error_in_strict_mode(tmp_path, video_split):
    lines = ['c0_v0.mp4 0', 'c0_v1.mp4 0', './c0_v0.mp4 0', 'c1_v0.mp4 1']
    split = dict(video_split, ann_file=_write_list(tmp_path, lines))
    with pytest.raises(
            InputError,
            match='1 videos are listed more than '
            r'once \(1 extra lines'):
        build(split, n_way=1, k_shot=1, n_query=1, duplicates='error')


def test_one_file_under_relative_absolute_and_linked_names(
        tmp_path, video_split, monkeypatch):
    """The same file named relatively, absolutely and through a link is
    one video: never support and query of one episode (issue 23 item 5)."""
    root = video_split['data_root']
    video_dir = osp.join(root, video_split.get('data_prefix', '') or '')
    link = tmp_path / 'link.mp4'
    link.symlink_to(osp.join(video_dir, 'c0_v0.mp4'))
    lines = ['c0_v0.mp4 0', f'{osp.abspath(osp.join(video_dir, "c0_v0.mp4"))}'
             ' 0', f'{link} 0', 'c0_v1.mp4 0', 'c1_v0.mp4 1', 'c1_v1.mp4 1']
    split = dict(video_split, ann_file=_write_list(tmp_path, lines))
    with pytest.raises(InputError, match=r'1 videos are listed more than '
                       r'once \(2 extra lines'):
        build(split, n_way=2, k_shot=1, n_query=1, duplicates='error')
    ds = build(split, n_way=2, k_shot=1, n_query=1)
    assert len(ds.video_list()) == 4
    for episode_id in range(50):
        plan = ds.episode_plan(episode_id)
        videos = [osp.realpath(v) for per_class in plan['videos']
                  for v in per_class]
        assert len(videos) == len(set(videos)) == 4


@pytest.mark.parametrize('second', ['walking', ' walking ', 'walking\t'])
def test_two_classes_with_one_name_are_refused(tmp_path, video_split,
                                               second):
    """Issue 23 item 6: repeated names (white space folded) would share
    one text feature."""
    names = tmp_path / 'classes.txt'
    names.write_text(f'walking\nrunning\n{second}\n')
    split = dict(video_split, class_name_file=str(names))
    with pytest.raises(InputError) as info:
        build(split, n_way=1, k_shot=1, n_query=1)
    assert str(info.value) == (
        f'{names}:3: class name {second.strip()!r} repeats line 1; every '
        'label needs its own name.')


def test_one_video_under_two_labels_is_an_error(tmp_path, video_split):
    lines = ['c0_v0.mp4 0', 'c0_v1.mp4 0', 'c0_v0.mp4 1', 'c1_v0.mp4 1']
    split = dict(video_split, ann_file=_write_list(tmp_path, lines))
    with pytest.raises(
            InputError, match='c0_v0.mp4 is listed with labels 0 and 1'):
        build(split, n_way=1, k_shot=1, n_query=1)


def test_class_with_only_bad_videos_is_one_error(tmp_path, video_split):
    lines = []
    for i in range(3):
        bad = tmp_path / f'bad{i}.mp4'
        bad.write_bytes(b'')
        lines.append(f'{bad} 0')
    lines += [f'c1_v{i}.mp4 1' for i in range(3)]
    split = dict(video_split, ann_file=_write_list(tmp_path, lines))
    ds = build(split, n_way=2, k_shot=1, n_query=1)
    with mock.patch('mafsar_mm.datasets.video_loading.print_log'):
        with pytest.raises(BadVideoError) as info:
            ds[0]
    message = str(info.value)
    assert message.startswith(
        f"Class 'class 0' (label 0) of {split['ann_file']} has no readable "
        'video left for an episode: 2 of its 3 videos are bad (e.g. ')
    # (the third is bad too, but it was not needed before the error)
    # survives a worker boundary / pickling unchanged
    assert str(pickle.loads(pickle.dumps(info.value))) == message
    assert str(type(info.value)(message)) == message


def test_bad_video_logged_once_across_workers(tmp_path, video_split):
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'')
    lines = open(osp.join(video_split['data_root'],
                          'split.txt')).read().splitlines()
    lines = [f'{bad} 0'] + [ln for ln in lines if ln.split()[1] in '01']
    split = dict(video_split, ann_file=_write_list(tmp_path, lines))
    # every episode holds all 7 videos of class 0: each worker meets bad
    ds = build(split, n_way=2, k_shot=5, n_query=1)
    logged = tmp_path / 'logged.txt'

    def log_to_file(message, **kwargs):  # also records calls in workers
        with open(logged, 'a') as f:
            f.write(message + '\n')

    def collate(batch):
        return dict(data_samples=[b['data_samples'] for b in batch])

    loader = DataLoader(ds, batch_size=1, num_workers=2, collate_fn=collate)
    reported = 0
    with mock.patch('mafsar_mm.datasets.video_loading.print_log',
                    log_to_file), \
            mock.patch('mafsar_mm.datasets.video_loading._logged', set()):
        for index, batch in enumerate(loader):
            sample = batch['data_samples'][0]
            assert str(bad) not in sample.video_ids
            reported += len(sample.metainfo['bad_videos'])
            log_batch_bad_videos(batch)
            if index == 5:
                break
    assert reported == 2  # found once by each worker ...
    lines = logged.read_text().splitlines()
    assert len(lines) == 1  # ... logged once
    assert lines[0] == (
        f'Skipping bad video {bad} (empty file); using another video of '
        'the same class. Clean the list with tools/data/check_videos.py.')


def test_bad_videos_of_other_ranks_are_logged_by_rank_0():
    batch = dict(data_samples=[
        mock.Mock(metainfo=dict(bad_videos=[('/v/a.mp4', 'empty file')]))
    ])
    other_rank = [('/v/b.mp4', 'missing'), ('/v/a.mp4', 'empty file')]
    with mock.patch('mafsar_mm.datasets.video_loading.print_log') as log, \
            mock.patch('mafsar_mm.datasets.video_loading._logged', set()), \
            mock.patch('mafsar_mm.datasets.video_loading.get_dist_info',
                       return_value=(0, 2)), \
            mock.patch('mafsar_mm.datasets.video_loading.all_gather_object',
                       lambda found: [found, other_rank]):
        log_batch_bad_videos(batch)
        log_batch_bad_videos(batch)
    messages = [c.args[0] for c in log.call_args_list]
    assert [m.split(' (')[0] for m in messages] == [
        'Skipping bad video /v/a.mp4', 'Skipping bad video /v/b.mp4'
    ]
