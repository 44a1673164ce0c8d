"""Tests of the temporal flavour's class splits and of the video styles."""
import hashlib
import os.path as osp

import numpy as np
import pytest

from mafsar_mm.datasets import synthetic
from mafsar_mm.datasets.synthetic.classes import (TEMPORAL_PAIRED,
                                                  TEMPORAL_SINGLE)


def _frames_md5(flavour: str, style=None) -> str:
    h = hashlib.md5()
    for spec in synthetic.get_class_specs(flavour)[::5]:
        if style is not None:
            spec = dict(spec, style=style)
        frames = synthetic.render_frames(
            spec, synthetic.video_rng(0, spec['label'], 1), 8, 64)
        h.update(frames.tobytes())
    return h.hexdigest()


def test_default_style_keeps_the_videos_bit_identical():
    # md5 of the frames before styles existed (commit 8d9a971): datasets
    # generated then still match their meta and the published numbers
    assert _frames_md5('spatial') == 'c1d67eeb09a34a6b49938fb0ef47cbe0'
    assert _frames_md5('temporal') == '5a5da92ce847220df10ba36ecd663e44'
    assert _frames_md5('temporal', 'blobs') == _frames_md5('temporal')


def test_unseen_style_changes_only_the_background():
    spec = synthetic.get_class_specs('temporal')[0]
    checkers = dict(spec, style='checkers')
    a = synthetic.render_frames(checkers, synthetic.video_rng(0, 0, 2), 4, 64)
    b = synthetic.render_frames(checkers, synthetic.video_rng(0, 0, 2), 4, 64)
    c = synthetic.render_frames(spec, synthetic.video_rng(0, 0, 2), 4, 64)
    np.testing.assert_array_equal(a, b)  # deterministic
    assert np.abs(a.astype(int) - c).mean() > 5  # another look
    assert 'checkers' in synthetic.HELD_OUT_STYLES
    with pytest.raises(ValueError, match="unknown style 'plaid'; supported"):
        synthetic.make_synthetic_dataset('/nonexistent', style='plaid')


@pytest.mark.parametrize('k', range(len(synthetic.TEMPORAL_CLASS_SPLITS)))
def test_class_splits_are_built_like_split_zero(k):
    of_motion = synthetic.temporal_class_split(k)
    assert set(of_motion) == set(TEMPORAL_PAIRED) | set(TEMPORAL_SINGLE)
    for split, pairs, singles in (('train', 10, 4), ('val', 4, 2),
                                  ('test', 4, 2)):
        motions = [m for m, s in of_motion.items() if s == split]
        assert sum(m in TEMPORAL_PAIRED for m in motions) == pairs
        assert sum(m in TEMPORAL_SINGLE for m in motions) == singles


def test_class_splits_rotate_the_test_classes():
    tests = [{m for m, s in synthetic.temporal_class_split(k).items()
              if s == 'test'} for k in range(3)]
    assert not (tests[0] & tests[1] or tests[0] & tests[2]
                or tests[1] & tests[2])
    with pytest.raises(ValueError, match='class split 3 does not exist; '
                       'choose one of 0..2'):
        synthetic.temporal_class_split(3)


def test_split_lists_written_from_the_split_zero_lists(tmp_path):
    synthetic.make_synthetic_dataset(
        str(tmp_path), videos_per_class=1, num_frames=4, size=32,
        workers=1, flavour='temporal')
    specs = synthetic.get_class_specs('temporal')

    def read(name):
        with open(osp.join(tmp_path, name)) as f:
            return [line.split() for line in f if line.strip()]

    every = sorted(read('train.txt') + read('val.txt') + read('test.txt'))
    for k in (1, 2):
        of_motion = synthetic.temporal_class_split(k)
        lists = {s: read(f'split{k}/{s}.txt') for s in synthetic.SPLITS}
        assert sorted(sum(lists.values(), [])) == every  # same videos
        for split, rows in lists.items():
            labels = {int(label) for _, label in rows}
            # a class and its time-reversed partner always share a split
            for label in labels:
                pair = specs[label]['pair']
                assert pair is None or pair in labels
                assert of_motion[specs[label]['motion']] == split
    # the spatial flavour has one split
    assert synthetic.write_class_split_lists(
        str(tmp_path), 'spatial') == []
