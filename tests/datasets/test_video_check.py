import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest

from mafsar_mm.datasets.video_check import (check_annotation, check_paths,
                                            check_video,
                                            parse_annotation_line)

TOOL = osp.join(
    osp.dirname(__file__), '..', '..', 'tools', 'data', 'check_videos.py')


def write_video(path: str, num_frames: int, size: int = 64) -> str:
    """Write a small mp4 (fourcc mp4v) with changing content."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 8,
                             (size, size))
    assert writer.isOpened()
    for i in range(num_frames):
        frame = np.full((size, size, 3), 20 * i % 256, np.uint8)
        cv2.rectangle(frame, (i * 4, 8), (i * 4 + 12, 20), (0, 0, 255), -1)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('videos'))
    paths = {
        'good': write_video(osp.join(root, 'a b', 'good.mp4'), 10),
        'short': write_video(osp.join(root, 'short.mp4'), 3),
        'corrupt': osp.join(root, 'corrupt.mp4'),
        'empty': osp.join(root, 'empty.mp4'),
        'missing': osp.join(root, 'missing.mp4'),
    }
    with open(paths['corrupt'], 'wb') as f:
        f.write(np.random.RandomState(0).bytes(4096))
    open(paths['empty'], 'wb').close()
    return root, paths


def test_check_video_reasons(videos):
    _, paths = videos
    assert check_video(paths['good'], min_frames=8) is None
    assert check_video(paths['short'], min_frames=8).startswith('too short')
    assert '3 frames' in check_video(paths['short'], min_frames=8)
    assert check_video(paths['short'], min_frames=3) is None
    assert check_video(paths['corrupt']).startswith('unreadable')
    assert check_video(paths['empty']) == 'empty file'
    assert check_video(paths['missing']) == 'missing'


@pytest.mark.parametrize('workers', [1, 2])
def test_check_paths(videos, workers):
    _, paths = videos
    bad = check_paths(list(paths.values()), min_frames=8, workers=workers,
                      progress=False)
    assert set(bad) == {paths[k] for k in paths if k != 'good'}


def test_parse_annotation_line():
    assert parse_annotation_line('a b/c.mp4 3') == ('a b/c.mp4', '3')
    assert parse_annotation_line('  x.mp4   12 \n') == ('x.mp4', '12')
    assert parse_annotation_line('x.mp4') == ('x.mp4', '')
    assert parse_annotation_line('   ') is None


def test_check_annotation_writes_clean_file(videos, tmp_path):
    root, paths = videos
    ann = tmp_path / 'train.txt'
    rels = ['a b/good.mp4', 'short.mp4', 'corrupt.mp4', 'empty.mp4',
            'missing.mp4']
    ann.write_text(''.join(f'{rel} {i}\n' for i, rel in enumerate(rels)) +
                   '\n' + f'{paths["good"]} 7\n')
    out = tmp_path / 'clean' / 'train_clean.txt'
    result = check_annotation(str(ann), video_root=root, min_frames=8,
                              workers=2, out_file=str(out), progress=False)
    assert result.total == 6
    # the absolute path on line 7 is the video of line 1 (a leak between
    # classes), so only line 1 is kept
    assert result.good_lines == ['a b/good.mp4 0']
    assert result.bad_lines == [
        (7, f'{paths["good"]} 7', 'the video is also on line 1, with label 0')
    ]
    reasons = dict(result.bad)
    assert reasons['short.mp4'].startswith('too short')
    assert reasons['corrupt.mp4'].startswith('unreadable')
    assert reasons['empty.mp4'] == 'empty file'
    assert reasons['missing.mp4'] == 'missing'
    assert out.read_text().splitlines() == result.good_lines


def test_check_videos_tool(videos, tmp_path, capsys, monkeypatch):
    root, _ = videos
    ann = tmp_path / 'val.txt'
    ann.write_text('a b/good.mp4 0\ncorrupt.mp4 1\nshort.mp4 2\n')
    out = tmp_path / 'val_clean.txt'
    monkeypatch.setattr(sys, 'argv', [
        TOOL,
        str(ann), '--video-root', root, '--workers', '1', '--out',
        str(out), '--no-progress'
    ])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(TOOL, run_name='__main__')
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert 'BAD corrupt.mp4: unreadable' in text
    assert 'BAD short.mp4: too short' in text
    assert '3 videos checked: 1 good, 2 bad' in text
    assert out.read_text() == 'a b/good.mp4 0\n'


def test_check_videos_checks_the_whole_line(videos, tmp_path, capsys,
                                            monkeypatch):
    root, _ = videos
    ann = tmp_path / 'val.txt'
    ann.write_text('a b/good.mp4 0\nshort.mp4 zero\nshort.mp4\n'
                   'short.mp4 5\n./a b/good.mp4 0\n')
    (tmp_path / 'classes.txt').write_text('run\njump\nswim\n')
    out = tmp_path / 'val_clean.txt'
    main = runpy.run_path(TOOL)['main']
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    status = main([
        str(ann), '--video-root', root, '--min-frames', '3', '--workers',
        '1', '--out',
        str(out), '--no-progress'
    ])
    assert status == 1
    assert capsys.readouterr().out.splitlines() == [
        f'labels checked against {tmp_path / "classes.txt"} (3 classes)',
        "BAD LINE 2 (short.mp4 zero): label 'zero' is not an integer",
        'BAD LINE 3 (short.mp4): no label (expected `<video path> '
        '<label>`)',
        'BAD LINE 4 (short.mp4 5): label 5 is out of range (labels are '
        '0..2)',
        'BAD LINE 5 (./a b/good.mp4 0): duplicate of line 1',
        '5 videos checked: 1 good, 4 bad (4 bad lines, 0 bad videos)',
        f'wrote 1 lines to {out}',
    ]
    assert out.read_text() == 'a b/good.mp4 0\n'


@pytest.mark.parametrize('bad_file', ['val.txt', 'classes.txt'])
def test_check_videos_non_utf8_byte_is_one_line(tmp_path, capsys, monkeypatch,
                                                bad_file):
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    (tmp_path / 'val.txt').write_bytes(b'good.mp4 0\n')
    (tmp_path / 'classes.txt').write_bytes(b'run\n')
    bad = tmp_path / bad_file
    bad.write_bytes(bad.read_bytes() + b'caf\xe9.mp4 0\n')
    main = runpy.run_path(TOOL)['main']
    assert main([str(tmp_path / 'val.txt'), '--no-progress']) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f'error: {bad}:2: byte 0xe9 at column 4 is not valid UTF-8 '
        '(invalid continuation byte); save the file as UTF-8.\n')


def test_check_videos_missing_list_is_one_line(tmp_path, capsys,
                                               monkeypatch):
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    missing = str(tmp_path / 'nope.txt')
    assert runpy.run_path(TOOL)['main']([missing, '--no-progress']) == 1
    captured = capsys.readouterr()
    assert captured.err == f'error: Annotation file not found: {missing}\n'
    assert captured.out == ''


def test_one_file_named_three_ways_is_a_duplicate(videos, tmp_path,
                                                  monkeypatch):
    """Relative (under a relative root), absolute and linked names of one
    file are one video (issue 23 item 5)."""
    root, paths = videos
    link = tmp_path / 'link.mp4'
    link.symlink_to(paths['good'])
    monkeypatch.chdir(osp.dirname(root))
    ann = tmp_path / 'list.txt'
    ann.write_text(f'a b/good.mp4 0\n{paths["good"]} 0\n{link} 0\n')
    result = check_annotation(str(ann), video_root=osp.basename(root),
                              min_frames=8, workers=1, progress=False)
    assert result.good_lines == ['a b/good.mp4 0']
    assert result.bad_lines == [(2, f'{paths["good"]} 0',
                                 'duplicate of line 1'),
                                (3, f'{link} 0', 'duplicate of line 1')]


def test_the_checker_and_the_clip_loader_agree(videos, tmp_path):
    """One reason text for a too-short video, whoever reads it, and one
    annotation-line and class-file parser for the dataset and the
    checker."""
    from mafsar_mm.datasets.annotation_files import (parse_label,
                                                     read_annotations,
                                                     read_class_names)
    from mafsar_mm.datasets.video_check import check_line, read_num_classes
    from mafsar_mm.datasets.video_loading import BadVideoError, ClipLoader
    _, paths = videos

    def pipeline(num_clips):
        return [
            dict(type='DecordInit'),
            dict(type='SampleFrames', clip_len=3, num_clips=num_clips,
                 test_mode=True),
            dict(type='DecordDecode'),
            dict(type='FormatShape', input_format='NCTHW')
        ]

    loader = ClipLoader(pipeline(1), min_frames=8)
    with pytest.raises(BadVideoError) as info:
        loader(paths['short'])
    assert info.value.reason == '3 frames, fewer than min_frames=8'
    assert check_video(paths['short'], min_frames=8) == (
        'too short (3 frames, fewer than min_frames=8)')
    assert loader(paths['good']).shape == (3, 3, 64, 64)  # [C, T, H, W]
    with pytest.raises(ValueError, match=r'one clip per video .*'
                       r'got shape \(2, 3, 3, 64, 64\)'):
        ClipLoader(pipeline(2))(paths['good'])
    ann = tmp_path / 'a.txt'
    ann.write_text('dir a/x.mp4 1\n\n  y.mp4   0 \n')
    assert read_annotations(str(ann)) == [('dir a/x.mp4', 1), ('y.mp4', 0)]
    labels = [parse_label(t) for t in ('3', '-1', 'x', '')]
    assert labels == [3, -1, None, None]
    assert check_line('x.mp4', 'x') == "label 'x' is not an integer"
    names = tmp_path / 'classes.txt'
    names.write_text('walking\nrunning\n\n\n')
    assert read_num_classes(str(names)) == len(
        read_class_names(str(names))) == 2
