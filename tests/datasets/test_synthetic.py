"""Tests of the synthetic temporal dataset generator."""
import importlib.util
import json
import os
import os.path as osp
import re

import decord
import numpy as np
import pytest

from mafsar_mm.datasets import synthetic

VIDEOS, FRAMES, SIZE = 2, 8, 32
REPO = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..')


def _make(root, seed=0, workers=1):
    return synthetic.make_synthetic_dataset(
        str(root), videos_per_class=VIDEOS, num_frames=FRAMES, size=SIZE,
        seed=seed, workers=workers)


@pytest.fixture(scope='module')
def datasets(tmp_path_factory):
    """Same seed in one and two processes, and another seed."""
    roots = {}
    for key, seed, workers in (('a', 0, 1), ('b', 0, 2), ('c', 1, 1)):
        root = tmp_path_factory.mktemp(f'synthetic_{key}')
        roots[key] = (root, _make(root, seed, workers))
    return roots


def _read_ann(root, split):
    with open(osp.join(root, f'{split}.txt')) as f:
        return [(p, int(label)) for p, label in
                (line.split() for line in f if line.strip())]


def _meta(root):
    with open(osp.join(root, 'meta.json')) as f:
        return json.load(f)


def _decode(root, rel):
    reader = decord.VideoReader(osp.join(str(root), rel))
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def test_layout_and_classes(datasets):
    root, summary = datasets['a']
    with open(osp.join(root, 'classes.txt')) as f:
        names = f.read().splitlines()
    assert len(names) >= 30 and len(names) == len(set(names))
    assert all(re.fullmatch(r'[a-z][a-z -]+[a-z]', n) for n in names)
    assert 'moving a red circle from left to right' in names
    assert 'moving a red circle from right to left' in names
    meta = _meta(root)
    assert meta['seed'] == 0 and meta['num_frames'] == FRAMES
    assert meta['size'] == SIZE and meta['num_classes'] == len(names)
    total = 0
    for split in synthetic.SPLITS:
        ann = _read_ann(root, split)
        labels = sorted({label for _, label in ann})
        assert labels == meta['splits'][split]
        assert meta['split_class_names'][split] == [names[i] for i in labels]
        for label in labels:
            assert sum(lab == label for _, lab in ann) == VIDEOS
        for path, _ in ann:
            assert path.startswith('videos/') and path.endswith('.mp4')
            assert osp.isfile(osp.join(root, path))
        total += len(ann)
    assert total == summary['num_videos'] == len(names) * VIDEOS
    assert synthetic.is_dataset_complete(str(root))


def test_videos_decodable(datasets):
    root, _ = datasets['a']
    for split in synthetic.SPLITS:
        for path, _ in _read_ann(root, split):
            reader = decord.VideoReader(osp.join(str(root), path))
            assert len(reader) == FRAMES
            assert reader[len(reader) - 1].shape == (SIZE, SIZE, 3)


def test_deterministic(datasets):
    (root_a, _), (root_b, _), (root_c, _) = (
        datasets['a'], datasets['b'], datasets['c'])
    for name in ('classes.txt', 'train.txt', 'val.txt', 'test.txt',
                 'meta.json'):
        with open(osp.join(root_a, name), 'rb') as fa, \
                open(osp.join(root_b, name), 'rb') as fb:
            assert fa.read() == fb.read(), name
    videos = [p for split in synthetic.SPLITS
              for p, _ in _read_ann(root_a, split)][::13]
    for rel in videos:
        frames = _decode(root_a, rel)
        np.testing.assert_array_equal(frames, _decode(root_b, rel))
        assert not np.array_equal(frames, _decode(root_c, rel))


def test_splits_disjoint_and_pairs(datasets):
    root, summary = datasets['a']
    meta = _meta(root)
    splits = {k: set(v) for k, v in meta['splits'].items()}
    assert not splits['train'] & splits['val']
    assert not splits['train'] & splits['test']
    assert not splits['val'] & splits['test']
    num = meta['num_classes']
    assert set().union(*splits.values()) == set(range(num))
    assert 0.5 <= len(splits['train']) / num <= 0.7
    assert 0.1 <= len(splits['val']) / num <= 0.2
    assert 0.2 <= len(splits['test']) / num <= 0.3
    pair_count = {k: 0 for k in splits}
    classes = meta['classes']
    for a, b in meta['pairs']:
        split = next(k for k, v in splits.items() if a in v)
        assert b in splits[split]
        pair_count[split] += 1
        ca, cb = classes[a], classes[b]
        assert (ca['shape'], ca['colour'], ca['motion']) == (
            cb['shape'], cb['colour'], cb['motion'])
        assert not ca['reverse'] and cb['reverse']
        assert ca['name'] != cb['name']
    assert pair_count['test'] >= 4 and pair_count['val'] >= 1
    assert summary['pairs_per_split'] == pair_count


def test_reverse_is_time_reversal():
    specs = synthetic.get_class_specs()
    for fwd, rev in synthetic.get_temporal_pairs(specs):
        frames_fwd = synthetic.render_frames(
            specs[fwd], synthetic.video_rng(3, fwd, 0), FRAMES, SIZE)
        frames_rev = synthetic.render_frames(
            specs[rev], synthetic.video_rng(3, fwd, 0), FRAMES, SIZE)
        np.testing.assert_array_equal(frames_rev, frames_fwd[::-1])
        assert not np.array_equal(frames_rev, frames_fwd)


def _centroids(frames, mask_fn):
    """Object centre (x, y) per frame from a colour mask of RGB frames."""
    out = []
    for frame in frames.astype(np.float32):
        ys, xs = np.nonzero(mask_fn(frame))
        assert len(xs) > 0
        out.append((xs.mean(), ys.mean()))
    return np.array(out)


def _label(names, name):
    return names.index(name)


def test_decoded_motion_directions(datasets):
    root, _ = datasets['a']
    names = synthetic.get_class_specs()
    names = [s['name'] for s in names]

    def red(f):
        return f[..., 0] - f[..., 1:].max(-1) > 100

    def yellow(f):
        return f[..., :2].min(-1) - f[..., 2] > 100

    cases = (('moving a red circle from left to right', red, 0, 1),
             ('moving a red circle from right to left', red, 0, -1),
             ('moving a yellow star down', yellow, 1, 1),
             ('moving a yellow star up', yellow, 1, -1))
    for name, mask_fn, axis, sign in cases:
        label = _label(names, name)
        ann = [p for split in synthetic.SPLITS
               for p, lab in _read_ann(root, split) if lab == label]
        for rel in ann:
            centre = _centroids(_decode(root, rel), mask_fn)[:, axis]
            assert sign * (centre[-1] - centre[0]) > SIZE * 0.2, name
            # Monotonic up to compression noise.
            assert (sign * np.diff(centre) > -1).all(), name


@pytest.mark.parametrize('size', [32, 96])
def test_objects_inside_frame(size):
    motions = list(synthetic.PAIRED_MOTIONS) + list(synthetic.SINGLE_MOTIONS)
    for motion in motions:
        for i in range(20):
            state = synthetic.motion_trajectory(
                motion, synthetic.video_rng(0, 99, i), 16, size)
            r = state['radius']
            assert (state['x'] - r >= 0).all() and \
                (state['x'] + r <= size).all(), motion
            assert (state['y'] - r >= 0).all() and \
                (state['y'] + r <= size).all(), motion
            assert ((state['alpha'] >= 0) & (state['alpha'] <= 1)).all()


def test_incomplete_run_detected(tmp_path):
    root = tmp_path / 'data'
    _make(root)
    assert synthetic.is_dataset_complete(str(root))
    video = _read_ann(root, 'test')[0][0]
    os.remove(osp.join(root, video))
    assert not synthetic.is_dataset_complete(str(root))
    _make(root)
    os.remove(osp.join(root, 'meta.json'))
    assert not synthetic.is_dataset_complete(str(root))


def test_check_settings():
    synthetic.check_settings(1, 8, 32)
    for bad in (dict(size=33), dict(size=48), dict(size=16),
                dict(num_frames=1), dict(videos_per_class=0)):
        with pytest.raises(ValueError):
            synthetic.check_settings(**bad)


def test_cli_skips_complete_dataset(tmp_path, capsys):
    path = osp.join(REPO, 'tools', 'data', 'make_synthetic.py')
    spec = importlib.util.spec_from_file_location('make_synthetic', path)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = str(tmp_path / 'synthetic')
    args = ['--out', out, '--videos-per-class', '1', '--frames', '4',
            '--size', '32', '--workers', '1']
    assert cli.main(args) == 0
    assert 'wrote' in capsys.readouterr().out
    assert synthetic.is_dataset_complete(out)
    meta_mtime = os.stat(osp.join(out, 'meta.json')).st_mtime_ns
    assert cli.main(args) == 0
    assert 'skipping' in capsys.readouterr().out
    assert os.stat(osp.join(out, 'meta.json')).st_mtime_ns == meta_mtime
    assert cli.main(args + ['--force']) == 0
    assert 'wrote' in capsys.readouterr().out
    os.remove(osp.join(out, 'meta.json'))
    assert cli.main(args) == 0
    assert 'wrote' in capsys.readouterr().out
    assert cli.main(args[:-4] + ['--size', '33']) == 2


# ------------------------------------------------------- temporal flavour


def test_temporal_flavour_names_only_the_motion():
    specs = synthetic.get_class_specs('temporal')
    names = [s['name'] for s in specs]
    assert len(set(names)) == len(names) == 44
    words = set(synthetic.COLOURS) | set(synthetic.SHAPES)
    for name in names:
        assert not words & set(name.split()), name
    # motions are disjoint across splits (a motion is a class here)
    motions = {split: {s['motion'] for s in specs if s['split'] == split}
               for split in synthetic.SPLITS}
    assert not motions['train'] & (motions['val'] | motions['test'])
    assert not motions['val'] & motions['test']
    with pytest.raises(ValueError, match='spatial'):
        synthetic.get_class_specs('colourful')


def test_temporal_val_split_is_built_like_test():
    """Val has as many classes, pairs and singles as test, so a 5-way
    val episode is as likely as a test one to hold both members of a
    pair (a val split that cannot rank methods cannot choose
    hyper-parameters)."""
    specs = synthetic.get_class_specs('temporal')

    def layout(split):
        rows = [s for s in specs if s['split'] == split]
        return len(rows), sum(s['pair'] is not None for s in rows) // 2

    assert layout('train') == (24, 10)
    assert layout('val') == layout('test') == (10, 4)


def test_temporal_reverse_is_time_reversal():
    specs = synthetic.get_class_specs('temporal')
    for fwd, rev in synthetic.get_temporal_pairs(specs):
        a = synthetic.render_frames(specs[fwd], synthetic.video_rng(0, 0, 1),
                                    8, 32)
        b = synthetic.render_frames(specs[rev], synthetic.video_rng(0, 0, 1),
                                    8, 32)
        np.testing.assert_array_equal(a[::-1], b)


def _object_colour(frames):
    """Median BGR of the most saturated pixels of the first frame."""
    frame = frames[0].astype(int)
    sat = frame.max(-1) - frame.min(-1)
    return np.median(frame[sat >= np.percentile(sat, 97)], axis=0)


def test_temporal_appearance_is_drawn_per_video():
    """The same class looks different from video to video, and two
    classes draw their looks from the same distribution (same generator,
    same looks)."""
    specs = synthetic.get_class_specs('temporal')
    left = specs[0]  # moving something from left to right
    colours = [_object_colour(synthetic.render_frames(
        left, synthetic.video_rng(0, 0, i), 4, 64)) for i in range(8)]
    spread = np.ptp(np.stack(colours), axis=0).max()
    assert spread > 100
    # same generator state -> same appearance for another motion
    other = next(s for s in specs if s['motion'] == 'vertical')
    a = synthetic.render_frames(left, synthetic.video_rng(0, 0, 3), 4, 64)
    b = synthetic.render_frames(other, synthetic.video_rng(0, 0, 3), 4, 64)
    np.testing.assert_allclose(_object_colour(a), _object_colour(b),
                               atol=25)


def test_temporal_dataset_written_with_its_flavour(tmp_path):
    summary = synthetic.make_synthetic_dataset(
        str(tmp_path), videos_per_class=1, num_frames=4, size=32,
        workers=2, flavour='temporal')
    assert summary['flavour'] == 'temporal'
    assert _meta(tmp_path)['flavour'] == 'temporal'
    assert synthetic.dataset_matches(str(tmp_path), 1, 4, 32, 0, 'temporal')
    assert not synthetic.dataset_matches(str(tmp_path), 1, 4, 32, 0,
                                         'spatial')
    with open(osp.join(tmp_path, 'classes.txt')) as f:
        assert 'moving something from left to right\n' in f.read()


# ------------------------------------------------------------------ stills


def test_stills_are_deterministic_and_captioned():
    from mafsar_mm.datasets.synthetic.stills import render_stills
    a, caps, _ = render_stills(60, seed=3, size=72)
    b, caps_b, _ = render_stills(60, seed=3, size=72)
    np.testing.assert_array_equal(a, b)
    assert caps == caps_b and a.shape == (60, 72, 72, 3)
    c, _, _ = render_stills(5, seed=4, size=72)
    assert not np.array_equal(a[:5], c)
    vocab = set(synthetic.COLOURS) | {'a', 'an', 'of', 'photo'}
    assert all(vocab & set(cap.split()) for cap in caps)
    assert not any(m in cap for cap in caps
                   for m in ('moving', 'growing', 'rotating'))


def test_still_caption_names_the_colour_it_shows():
    from mafsar_mm.datasets.synthetic.stills import render_still
    checked = 0
    for i in range(200):  # most phrases name the shape alone
        image, caption, _ = render_still(np.random.default_rng(i), 72)
        words = caption.split()
        for colour in set(synthetic.COLOURS) & set(words):
            ref = np.array(synthetic.COLOURS[colour], float)
            dist = np.abs(image.astype(float) - ref).max(-1)
            assert (dist < 80).sum() > 15, caption
            checked += 1
    assert checked > 40


def test_pretraining_stills_leave_out_the_held_out_styles():
    from mafsar_mm.datasets.synthetic.stills import render_stills
    from mafsar_mm.datasets.synthetic.styles import (HELD_OUT_STYLES,
                                                     TRAIN_STYLES,
                                                     style_background)
    _, _, truths = render_stills(200, seed=0, size=72)
    seen = {t['style'] for t in truths}
    assert seen == set(TRAIN_STYLES) and not seen & set(HELD_OUT_STYLES)
    _, _, held = render_stills(20, 1, 72, HELD_OUT_STYLES, single=True)
    assert {t['count'] for t in held} == {1}
    assert {t['style'] for t in held} == set(HELD_OUT_STYLES)
    with pytest.raises(ValueError, match='unknown style .*supported'):
        style_background(np.random.default_rng(0), 'plaid', 8)


def test_shape_only_share_sets_how_often_the_shape_is_named_alone():
    from mafsar_mm.datasets.synthetic.drawing import ALL_SHAPES
    from mafsar_mm.datasets.synthetic.stills import render_stills
    bare = {('an ' if s[0] in 'aeiou' else 'a ') + s for s in ALL_SHAPES}
    bare |= {'a photo of ' + b for b in bare}

    def share(shape_only):
        _, caps, _ = render_stills(200, 0, 32, single=True,
                                   shape_only=shape_only)
        return np.mean([c in bare for c in caps])

    assert share(0.0) < 0.2  # 'a star' only when colour, size, position
    assert share(1.0) == 1.0  # are all left out; always with 1
    assert 0.6 < share(0.7) < 0.85
