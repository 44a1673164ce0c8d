import functools
import os
import os.path as osp
import runpy
import shutil
import sys
from collections import Counter

import cv2
import numpy as np
import pytest

from mafsar_mm.datasets.fewshot_splits import (
    BENCHMARKS, CLASS_NAME_FILE, DEFAULT_SPLITS_DIR, SPLITS, VideoIndex,
    available_benchmarks, load_splits, prepare_fewshot, read_split_list)
from mafsar_mm.datasets.video_check import check_paths

REPO = osp.normpath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(REPO, 'tools', 'data', 'prepare_fewshot.py')

# (classes, videos) per split (train, val, test) of the shipped lists.
EXPECTED = {
    'ssv2_full': ((64, 12, 24), (67013, 1926, 2857)),
    'ssv2_small': ((64, 12, 24), (6400, 1200, 2400)),
    'kinetics100': ((64, 12, 24), (6400, 1200, 2400)),
    'ucf101': ((70, 10, 21), (9154, 1421, 2745)),
    'hmdb51': ((31, 10, 10), (4280, 1194, 1292)),
}


def test_shipped_benchmarks_present():
    assert osp.normpath(DEFAULT_SPLITS_DIR) == osp.join(REPO, 'data',
                                                        'splits')
    assert set(EXPECTED) <= set(available_benchmarks())
    assert set(BENCHMARKS) == set(EXPECTED)


@pytest.mark.parametrize('benchmark', sorted(EXPECTED))
def test_shipped_split_counts(benchmark):
    lists, names = load_splits(benchmark)
    num_classes, num_videos = EXPECTED[benchmark]
    seen = set()
    for split, want_c, want_v in zip(SPLITS, num_classes, num_videos):
        entries = lists[split]
        keys = Counter(key for key, _ in entries)
        assert len(keys) == want_c, split
        assert len(entries) == want_v, split
        assert len(set(entries)) == len(entries)
        assert not seen & set(keys)
        seen |= set(keys)
        if benchmark in ('ssv2_small', 'kinetics100'):
            assert set(keys.values()) == {100}
    # class_names.tsv: every class once, train classes first, unique names
    assert list(names) == [k for s in SPLITS for k in sorted(
        {key for key, _ in lists[s]}, key=list(names).index)]
    assert set(names) == seen
    assert len(set(names.values())) == len(names)


def test_readable_names():
    _, full = load_splits('ssv2_full')
    assert full['train0'] == 'Bending [something] until it breaks'
    assert full['val8'] == 'Scooping [something] up with [something]'
    assert full['test23'] == 'Tipping [something] over'
    _, small = load_splits('ssv2_small')
    assert small['Pouring something into something'] == \
        'Pouring [something] into [something]'
    _, ucf = load_splits('ucf101')
    assert ucf['ApplyEyeMakeup'] == 'Apply Eye Makeup'
    _, hmdb = load_splits('hmdb51')
    assert hmdb['brush_hair'] == 'brush hair'


def write_video(path: str, num_frames: int, size: int = 64) -> str:
    """Write a small mp4 (fourcc mp4v); extension does not matter."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 8,
                             (size, size))
    assert writer.isOpened()
    for i in range(num_frames):
        frame = np.full((size, size, 3), 25 * i % 256, np.uint8)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp('clips')
    return {
        'good': write_video(str(root / 'good.mp4'), 10),
        'short': write_video(str(root / 'short.mp4'), 3),
    }


def raw_path(benchmark: str, split: str, key: str, vid: str) -> str:
    """Where the benchmark's own download would put a listed video.

    Some splits use a variant of the layout to exercise the tolerant
    search (flat folders, other extensions, YouTube-id-only names).
    """
    if benchmark.startswith('ssv2'):
        return f'{vid}.webm' if split != 'test' else f'mp4/{vid}.mp4'
    if benchmark == 'kinetics100':
        if split == 'train':
            return f'train/{key}/{vid}.mp4'
        if split == 'val':  # underscored folder, YouTube id only
            return f'val/{key.replace(" ", "_")}/{vid[:11]}.mp4'
        return f'flat/{vid}.mp4'
    if benchmark == 'ucf101':
        return f'UCF-101/{key}/{vid}.avi'
    return f'{key}/{vid}.avi'  # hmdb51


def link(src: str, dst: str) -> None:
    os.makedirs(osp.dirname(dst), exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def make_fake_benchmark(benchmark, tmp_path, clips):
    """A reduced split folder and a raw video tree for ``benchmark``.

    train: 2 classes x 7 videos (one missing, one corrupt);
    val: 1 class x 5 videos (too few for 5-shot);
    test: 2 classes x 7 videos (one too short).
    """
    lists, _ = load_splits(benchmark)
    plan = {'train': (2, 7), 'val': (1, 5), 'test': (2, 7)}
    splits_dir = tmp_path / 'splits'
    bench_dir = splits_dir / benchmark
    bench_dir.mkdir(parents=True)
    shutil.copyfile(
        osp.join(DEFAULT_SPLITS_DIR, benchmark, CLASS_NAME_FILE),
        bench_dir / CLASS_NAME_FILE)
    root = tmp_path / 'raw'
    chosen, special = {}, {}
    for split, (n_cls, n_vid) in plan.items():
        by_class = {}
        for key, vid in lists[split]:
            by_class.setdefault(key, [])
            if len(by_class[key]) < n_vid:
                by_class[key].append(vid)
        keys = sorted(by_class)[:n_cls]
        entries = [(k, v) for k in keys for v in by_class[k]]
        chosen[split] = entries
        (bench_dir / f'{split}.txt').write_text(''.join(
            f'{k}/{v}\n' for k, v in entries))
        for i, (key, vid) in enumerate(entries):
            rel = raw_path(benchmark, split, key, vid)
            if split == 'train' and i == 0:
                special['missing'] = (split, key, vid, rel)
                continue
            if split == 'train' and i == n_vid + 1:
                special['corrupt'] = (split, key, vid, rel)
                os.makedirs(osp.dirname(str(root / rel)), exist_ok=True)
                (root / rel).write_bytes(np.random.RandomState(1).bytes(999))
                continue
            if split == 'test' and i == 2:
                special['short'] = (split, key, vid, rel)
                link(clips['short'], str(root / rel))
                continue
            link(clips['good'], str(root / rel))
    # an unlisted video and a non-video file must be ignored
    link(clips['good'], str(root / 'unlisted' / 'zzz_not_in_list.mp4'))
    (root / 'notes.txt').write_text('not a video')
    return splits_dir, root, chosen, special


def read_ann(path):
    rows = []
    with open(path) as f:
        for line in f:
            rel, label = line.rstrip('\n').rsplit(' ', 1)
            rows.append((rel, int(label)))
    return rows


@pytest.mark.parametrize('benchmark', sorted(EXPECTED))
def test_prepare_fake_tree(benchmark, tmp_path, clips):
    splits_dir, root, chosen, special = make_fake_benchmark(
        benchmark, tmp_path, clips)
    out = tmp_path / 'out'
    logs = []
    checker = functools.partial(check_paths, min_frames=8, workers=1,
                                progress=False)
    result = prepare_fewshot(benchmark, str(root), str(out),
                             splits_dir=str(splits_dir), checker=checker,
                             log=logs.append)
    _, names = load_splits(benchmark)

    # classes.txt: every class of the benchmark, in class_names.tsv order
    class_lines = (out / 'classes.txt').read_text().splitlines()
    assert class_lines == list(names.values())
    assert len(class_lines) == sum(EXPECTED[benchmark][0])
    label_of = {key: i for i, key in enumerate(names)}

    expect_rel = {(s, k, v): raw_path(benchmark, s, k, v)
                  for s, entries in chosen.items() for k, v in entries}
    bad_keys = {special[k][:3] for k in ('missing', 'corrupt', 'short')}
    for split in SPLITS:
        rows = read_ann(out / f'{split}.txt')
        want = [(expect_rel[(split, k, v)], label_of[k])
                for k, v in chosen[split] if (split, k, v) not in bad_keys]
        assert rows == want, split
        for rel, label in rows:
            assert (root / rel).is_file()
            assert 0 <= label < len(class_lines)
        split_labels = {label_of[k] for k, _ in chosen[split]}
        assert {label for _, label in rows} == split_labels

    stats = result.splits
    assert (stats['train'].classes, stats['train'].videos) == (2, 12)
    assert (stats['val'].classes, stats['val'].videos) == (1, 5)
    assert (stats['test'].classes, stats['test'].videos) == (2, 13)
    assert stats['train'].missing == 1 and stats['train'].bad == 1
    assert stats['test'].bad == 1 and stats['test'].missing == 0

    # missing: reported, listed, not fatal
    split, key, vid, _ = special['missing']
    assert result.missing == [(split, f'{key}/{vid}')]
    assert (out / 'missing.txt').read_text() == f'train\t{key}/{vid}\n'
    # corrupt and too short: left out with a reason
    bad = {rel: reason for _, rel, reason in result.bad}
    assert bad[special['corrupt'][3]].startswith('unreadable')
    assert bad[special['short'][3]].startswith('too short')
    assert len(bad) == 2
    bad_lines = (out / 'bad_videos.txt').read_text().splitlines()
    assert sorted(line.split('\t')[0] for line in bad_lines) == sorted(bad)

    # warnings for classes too small for a 5-shot episode
    val_name = names[chosen['val'][0][0]]
    assert stats['val'].small_classes == {val_name: 5}
    assert not stats['train'].small_classes
    text = '\n'.join(logs)
    assert 'WARNING val' in text and val_name in text
    assert '1 listed videos not found' in text

    # the files load with the dataset's own readers
    try:
        from mafsar_mm.datasets.few_shot_video_dataset import (
            read_annotations, read_class_names)
    except ImportError:  # pragma: no cover - package still being built
        return
    assert read_class_names(str(out / 'classes.txt')) == class_lines
    assert read_annotations(str(out / 'test.txt')) == read_ann(
        out / 'test.txt')


def test_prepare_without_check_keeps_all_found(tmp_path, clips):
    splits_dir, root, chosen, special = make_fake_benchmark(
        'kinetics100', tmp_path, clips)
    out = tmp_path / 'out'
    result = prepare_fewshot('kinetics100', str(root), str(out),
                             splits_dir=str(splits_dir), log=None)
    assert result.bad == []
    assert not (out / 'bad_videos.txt').exists()
    assert result.splits['train'].videos == 13
    assert result.splits['test'].videos == 14
    rels = [rel for rel, _ in read_ann(out / 'train.txt')]
    assert special['corrupt'][3] in rels


def test_prepare_ext_filter(tmp_path, clips):
    # ssv2 test videos are laid out as .mp4, the others as .webm
    splits_dir, root, chosen, _ = make_fake_benchmark('ssv2_small',
                                                      tmp_path, clips)
    result = prepare_fewshot('ssv2_small', str(root), str(tmp_path / 'o'),
                             splits_dir=str(splits_dir), ext='mp4',
                             log=None)
    assert result.splits['train'].videos == 0
    assert result.splits['test'].videos == 14


def test_full_lists_with_few_videos(tmp_path, clips):
    lists, _ = load_splits('ssv2_full')
    root = tmp_path / 'raw'
    picked = [lists['train'][0], lists['test'][0]]
    for _, vid in picked:
        link(clips['good'], str(root / f'{vid}.webm'))
    result = prepare_fewshot('ssv2_full', str(root), str(tmp_path / 'out'),
                             log=None)
    assert result.num_videos == 2
    assert len(result.missing) == sum(EXPECTED['ssv2_full'][1]) - 2
    assert len(result.class_names) == 100


def test_video_index_prefers_class_folder(tmp_path, clips):
    for rel in ('a/x_1.avi', 'b/x_1.avi', 'b/x_1.mp4', 'c/Y.avi'):
        link(clips['good'], str(tmp_path / rel))
    index = VideoIndex(str(tmp_path))
    assert index.num_files == 4
    assert index.find('x_1', 'b', ('.mp4', '.avi')) == 'b/x_1.mp4'
    assert index.find('x_1', 'a', ('.mp4', '.avi')) == 'a/x_1.avi'
    assert index.find('y', 'c') == 'c/Y.avi'  # case-insensitive fallback
    assert index.find('nope') is None


def test_split_list_errors(tmp_path):
    bad = tmp_path / 'bad.txt'
    bad.write_text('no_slash_here\n')
    with pytest.raises(ValueError, match='expected'):
        read_split_list(str(bad))
    with pytest.raises(FileNotFoundError, match='No split lists'):
        load_splits('nope', str(tmp_path))
    overlap = tmp_path / 'overlap'
    overlap.mkdir()
    for split in SPLITS:
        (overlap / f'{split}.txt').write_text(f'same/{split}\n')
    with pytest.raises(ValueError, match='disjoint'):
        load_splits('overlap', str(tmp_path))


def test_prepare_tool(tmp_path, clips, capsys, monkeypatch):
    splits_dir, root, _, _ = make_fake_benchmark('hmdb51', tmp_path, clips)
    out = tmp_path / 'out'
    monkeypatch.setattr(sys, 'argv', [
        TOOL, 'hmdb51', '--video-root',
        str(root), '--out',
        str(out), '--splits-dir',
        str(splits_dir), '--check', '--workers', '2'
    ])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(TOOL, run_name='__main__')
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert 'train: 2/2 classes, 12/14 videos (missing 1, bad 1)' in text
    assert len((out / 'classes.txt').read_text().splitlines()) == 51

    # nothing found at all: files written, exit status 1
    empty = tmp_path / 'empty'
    empty.mkdir()
    monkeypatch.setattr(sys, 'argv', [
        TOOL, 'hmdb51', '--video-root',
        str(empty), '--out',
        str(tmp_path / 'out2'), '--splits-dir',
        str(splits_dir)
    ])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(TOOL, run_name='__main__')
    assert exc.value.code == 1
    assert 'none of the listed videos' in capsys.readouterr().err
