"""Write a synthetic few-shot video dataset to disk.

The output layout is::

    out_dir/
        classes.txt    # line i is the name of label i
        train.txt      # 'videos/<file>.mp4 <label>' per line
        val.txt
        test.txt
        videos/*.mp4
        meta.json      # written last: its presence marks a complete run

Only numpy, OpenCV and the standard library are used, so the module can be
imported without the rest of the package.
"""
import json
import os
import os.path as osp
import select
import subprocess
import sys
from typing import Callable, List, Optional, Sequence, Tuple

import cv2

from .classes import (SPLITS, check_flavour, get_class_specs,
                      get_temporal_pairs, slug, video_rng)
from .class_split_lists import write_class_split_lists
from .drawing import FPS, write_text, write_video
from .render import render_frames
from .styles import check_style

# 2: the temporal flavour's val split has 10 classes (was 6)
META_VERSION = 2
_DECORD_BAD_SIZES = (48, 72)


def video_name(spec: dict, index: int) -> str:
    """File name of a video, relative to ``out_dir``.

    Args:
        spec (dict): A class from :func:`get_class_specs`.
        index (int): Index of the video within its class.

    Returns:
        str: E.g. ``'videos/00_moving_a_red_circle_..._003.mp4'``.
    """
    return f"videos/{spec['label']:02d}_{slug(spec['name'])}_{index:03d}.mp4"


def _make_one(out_dir: str, spec: dict, index: int, seed: int,
              num_frames: int, size: int) -> str:
    """Render and write one video; return its path relative to out_dir."""
    frames = render_frames(spec, video_rng(seed, spec['label'], index),
                           num_frames, size)
    rel = video_name(spec, index)
    write_video(osp.join(out_dir, rel), frames)
    return rel


# A worker is a fresh interpreter that loads this package by path. Forking
# after OpenCV has started its thread pool can deadlock the child, and
# spawning by module name would import the whole package (torch, ...).
_WORKER_CODE = (
    'import importlib.util as u, os.path as p, sys\n'
    's = u.spec_from_file_location("_mafsar_synthetic_worker", sys.argv[1],'
    ' submodule_search_locations=[p.dirname(sys.argv[1])])\n'
    'm = u.module_from_spec(s)\n'
    'sys.modules[s.name] = m\n'
    's.loader.exec_module(m)\n'
    'm.generate._worker_main()\n')


def _worker_main() -> None:
    """Entry point of a worker process: read a job as JSON from stdin and
    print one line per finished video."""
    cv2.setNumThreads(1)
    job = json.load(sys.stdin)
    specs = [dict(spec, style=job['style'])
             for spec in get_class_specs(job['flavour'])]
    for label, index in job['tasks']:
        _make_one(job['out_dir'], specs[label], index, job['seed'],
                  job['num_frames'], job['size'])
        print(label, index, flush=True)


def _run_workers(out_dir: str, tasks: List[Tuple[int, int]], job: dict,
                 workers: int, progress: Callable[[int], None]) -> None:
    """Render ``(label, index)`` tasks in ``workers`` processes."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    init = osp.join(osp.dirname(osp.abspath(__file__)), '__init__.py')
    procs = []
    try:
        for w in range(workers):
            proc = subprocess.Popen(
                [sys.executable, '-c', _WORKER_CODE, init],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            procs.append(proc)
            proc.stdin.write(json.dumps(
                dict(job, out_dir=osp.abspath(out_dir),
                     tasks=tasks[w::workers])).encode())
            proc.stdin.close()
        # one line per finished video, from whichever worker
        open_pipes = {p.stdout.fileno(): p for p in procs}
        while open_pipes:
            ready, _, _ = select.select(list(open_pipes), [], [], 1.0)
            for fd in ready:
                line = open_pipes[fd].stdout.readline()
                if line:
                    progress(1)
                else:
                    del open_pipes[fd]
        failed = [p.args for p in procs if p.wait() != 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if failed:
        raise RuntimeError(f'{len(failed)} synthetic video worker(s) failed')


def _settings(videos_per_class: int, num_frames: int, size: int,
              seed: int, flavour: str, style: str = 'blobs') -> dict:
    return dict(seed=seed, videos_per_class=videos_per_class,
                num_frames=num_frames, size=size, fps=FPS, flavour=flavour,
                style=style)


def load_meta(out_dir: str) -> Optional[dict]:
    """Read ``meta.json`` of a generated dataset.

    Args:
        out_dir (str): Dataset directory.

    Returns:
        dict | None: The metadata, or None if missing or unreadable.
    """
    try:
        with open(osp.join(out_dir, 'meta.json'), encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def is_dataset_complete(out_dir: str) -> bool:
    """Check that a generation run into ``out_dir`` finished.

    ``meta.json`` is written last, so an interrupted run has none. Also
    checks that the class and annotation files and every listed video
    exist.

    Args:
        out_dir (str): Dataset directory.

    Returns:
        bool: True if the dataset is complete.
    """
    meta = load_meta(out_dir)
    if meta is None or meta.get('version') != META_VERSION:
        return False
    if not osp.isfile(osp.join(out_dir, 'classes.txt')):
        return False
    count = 0
    for split in SPLITS:
        ann = osp.join(out_dir, f'{split}.txt')
        if not osp.isfile(ann):
            return False
        with open(ann, encoding='utf-8') as f:
            for line in f:
                if not line.strip():
                    continue
                path = osp.join(out_dir, line.rsplit(maxsplit=1)[0])
                if not osp.isfile(path) or osp.getsize(path) == 0:
                    return False
                count += 1
    return count == meta.get('num_videos')


def dataset_matches(out_dir: str, videos_per_class: int = 20,
                    num_frames: int = 16, size: int = 96,
                    seed: int = 0, flavour: str = 'spatial',
                    style: str = 'blobs') -> bool:
    """Whether a complete dataset in ``out_dir`` has the given settings.

    Args:
        out_dir (str): Dataset directory.
        videos_per_class (int): Videos per class. Defaults to 20.
        num_frames (int): Frames per video. Defaults to 16.
        size (int): Frame side in pixels. Defaults to 96.
        seed (int): Dataset seed. Defaults to 0.
        flavour (str): ``'spatial'`` or ``'temporal'``. Defaults to
            ``'spatial'``.
        style (str): Background family. Defaults to ``'blobs'``.

    Returns:
        bool: True if complete and generated with these settings.
    """
    if not is_dataset_complete(out_dir):
        return False
    meta = dict(load_meta(out_dir))
    meta.setdefault('flavour', 'spatial')  # datasets made before flavours
    meta.setdefault('style', 'blobs')  # datasets made before styles
    wanted = _settings(videos_per_class, num_frames, size, seed, flavour,
                       style)
    return all(meta.get(k) == v for k, v in wanted.items())


def check_settings(videos_per_class: int = 20, num_frames: int = 16,
                   size: int = 96) -> None:
    """Reject settings that would give unusable videos.

    'mp4v' crops odd frame sizes to even ones, and decord 0.6 misreads the
    channels of 'mp4v' videos 16, 24, 48 or 72 pixels wide (found by
    decoding every even size from 16 to 448).

    Args:
        videos_per_class (int): Videos per class. Defaults to 20.
        num_frames (int): Frames per video. Defaults to 16.
        size (int): Frame side in pixels. Defaults to 96.

    Raises:
        ValueError: If a setting is out of range.
    """
    if videos_per_class < 1:
        raise ValueError(f'videos_per_class must be >= 1, got '
                         f'{videos_per_class}')
    if num_frames < 2:
        raise ValueError(f'num_frames must be >= 2, got {num_frames}')
    if size < 32 or size % 2 or size in _DECORD_BAD_SIZES:
        raise ValueError(
            f'size must be even, >= 32 and not one of {_DECORD_BAD_SIZES} '
            f'(decord misreads those mp4v videos), got {size}')


def make_synthetic_dataset(out_dir: str, videos_per_class: int = 20,
                           num_frames: int = 16, size: int = 96,
                           seed: int = 0, workers: int = 2,
                           flavour: str = 'spatial',
                           progress: Optional[Callable[[int], None]] = None,
                           style: str = 'blobs') -> dict:
    """Generate a synthetic few-shot dataset into ``out_dir``.

    Existing files of the same names are overwritten. ``meta.json`` is
    removed first and written last, so an interrupted run is detected by
    :func:`is_dataset_complete`. The output only depends on the settings,
    not on ``workers``.

    Args:
        out_dir (str): Output directory (created if needed).
        videos_per_class (int): Videos per class. Defaults to 20.
        num_frames (int): Frames per video. Defaults to 16.
        size (int): Frame width and height in pixels. Defaults to 96.
        seed (int): Seed of all randomness. Defaults to 0.
        workers (int): Worker processes; 0 or 1 renders in this process.
            Defaults to 2.
        flavour (str): ``'spatial'`` (appearance and motion name a class)
            or ``'temporal'`` (only the motion does; SSv2-like). Defaults
            to ``'spatial'``.
        progress (Callable[[int], None], optional): Called with the number
            of videos just finished, e.g. to advance a progress bar.
            Defaults to None.
        style (str): Background family of the videos
            (:data:`.styles.STYLE_FAMILIES`). Defaults to ``'blobs'`` (the
            original look); ``'checkers'`` is a family the tiny CLIP's
            pretraining never shows.

    Returns:
        dict: Summary with ``out_dir``, ``flavour``, ``num_classes``,
        ``num_videos``, ``classes_per_split``, ``videos_per_split`` and
        ``pairs_per_split``.
    """
    check_settings(videos_per_class, num_frames, size)
    check_flavour(flavour)
    check_style(style)
    progress = progress or (lambda n: None)
    specs = [dict(spec, style=style) for spec in get_class_specs(flavour)]
    pairs = get_temporal_pairs(specs)
    os.makedirs(osp.join(out_dir, 'videos'), exist_ok=True)
    meta_path = osp.join(out_dir, 'meta.json')
    if osp.exists(meta_path):
        os.remove(meta_path)

    tasks = [(spec['label'], i) for spec in specs
             for i in range(videos_per_class)]
    if workers > 1:
        job = dict(seed=seed, num_frames=num_frames, size=size,
                   flavour=flavour, style=style)
        _run_workers(out_dir, tasks, job, min(workers, len(tasks)),
                     progress)
    else:
        for label, index in tasks:
            _make_one(out_dir, specs[label], index, seed, num_frames, size)
            progress(1)

    write_text(osp.join(out_dir, 'classes.txt'),
               ''.join(s['name'] + '\n' for s in specs))
    by_split = {split: [] for split in SPLITS}
    for label, index in tasks:
        spec = specs[label]
        name = video_name(spec, index)
        by_split[spec['split']].append(f'{name} {label}\n')
    for split in SPLITS:
        write_text(osp.join(out_dir, f'{split}.txt'),
                   ''.join(by_split[split]))
    write_class_split_lists(out_dir, flavour)

    split_labels = {split: [s['label'] for s in specs if s['split'] == split]
                    for split in SPLITS}
    summary = dict(
        out_dir=out_dir,
        flavour=flavour,
        num_classes=len(specs),
        num_videos=len(tasks),
        classes_per_split={k: len(v) for k, v in split_labels.items()},
        videos_per_split={k: len(v) for k, v in by_split.items()},
        pairs_per_split={
            split: sum(specs[a]['split'] == split for a, _ in pairs)
            for split in SPLITS
        })
    meta = dict(
        version=META_VERSION,
        **_settings(videos_per_class, num_frames, size, seed, flavour,
                    style),
        num_classes=len(specs),
        num_videos=len(tasks),
        splits=split_labels,
        split_class_names={
            split: [specs[i]['name'] for i in labels]
            for split, labels in split_labels.items()
        },
        pairs=[list(p) for p in pairs],
        classes=specs,
    )
    write_text(meta_path, json.dumps(meta, indent=2) + '\n')
    return summary


def remove_dataset(out_dir: str) -> None:
    """Delete the files a previous run wrote into ``out_dir``.

    Only the known outputs are removed (``meta.json``, the class and
    annotation files and the mp4 files under ``videos/``), never other
    files.

    Args:
        out_dir (str): Dataset directory.
    """
    for name in ('meta.json', 'classes.txt') + tuple(
            f'{s}.txt' for s in SPLITS):
        path = osp.join(out_dir, name)
        if osp.isfile(path):
            os.remove(path)
    video_dir = osp.join(out_dir, 'videos')
    if osp.isdir(video_dir):
        for name in os.listdir(video_dir):
            if name.endswith('.mp4'):
                os.remove(osp.join(video_dir, name))


def summarize_classes(specs: Optional[Sequence[dict]] = None,
                      flavour: str = 'spatial') -> str:
    """A readable table of the classes with split and pair.

    Args:
        specs (Sequence[dict], optional): Output of
            :func:`get_class_specs`. Defaults to None (build it).
        flavour (str): Flavour of the classes built when ``specs`` is
            None. Defaults to ``'spatial'``.

    Returns:
        str: One line per class.
    """
    specs = get_class_specs(flavour) if specs is None else specs
    lines = []
    for s in specs:
        pair = '' if s['pair'] is None else f"  (pair with {s['pair']})"
        lines.append(f"{s['label']:2d} {s['split']:5s} {s['name']}{pair}")
    return '\n'.join(lines)
