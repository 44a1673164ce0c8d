"""A generated few-shot dataset whose classes differ by motion over time.

Every class is a (shape, colour, motion) triple with a readable English
name such as ``'moving a red circle from left to right'``. Most classes come
in *temporal pairs*: the second class of a pair is rendered by the same
motion generator as the first, with the frame order reversed. The frames of
the two classes therefore have the same distribution as a set, and only a
model of frame order can tell them apart.

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
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

FPS = 8
SPLITS = ('train', 'val', 'test')
META_VERSION = 1
_DECORD_BAD_SIZES = (48, 72)

# Colours in OpenCV's BGR order.
COLOURS = {
    'red': (40, 40, 230),
    'green': (60, 200, 60),
    'blue': (230, 90, 30),
    'yellow': (40, 230, 240),
    'magenta': (220, 50, 220),
    'cyan': (230, 220, 40),
    'orange': (20, 140, 250),
    'white': (245, 245, 245),
}

SHAPES = ('circle', 'square', 'triangle', 'star', 'diamond')

# Paired motions: motion -> (name of the forward class, name of the
# reversed class). ``{obj}`` is replaced by e.g. 'a red circle'.
PAIRED_MOTIONS = {
    'horizontal': ('moving {obj} from left to right',
                   'moving {obj} from right to left'),
    'vertical': ('moving {obj} down', 'moving {obj} up'),
    'diagonal': ('moving {obj} from top left to bottom right',
                 'moving {obj} from bottom right to top left'),
    'scale': ('{obj} growing', '{obj} shrinking'),
    'rotate': ('{obj} rotating clockwise', '{obj} rotating counter-clockwise'),
    'fade': ('{obj} appearing', '{obj} disappearing'),
    'orbit': ('{obj} circling clockwise', '{obj} circling counter-clockwise'),
}

# Motions that look the same played backwards: single classes.
SINGLE_MOTIONS = {
    'bounce': '{obj} bouncing',
    'shake': '{obj} shaking',
    'blink': '{obj} blinking',
    'pulse': '{obj} pulsing',
}

# (split, motion, shape, colour). Paired motions give two classes each.
# train: 10 pairs + 4 singles = 24 classes, val: 2 pairs + 2 singles = 6,
# test: 4 pairs + 2 singles = 10.
CLASS_TABLE = (
    ('train', 'horizontal', 'circle', 'red'),
    ('train', 'scale', 'square', 'blue'),
    ('train', 'rotate', 'triangle', 'green'),
    ('train', 'vertical', 'star', 'yellow'),
    ('train', 'fade', 'circle', 'magenta'),
    ('train', 'diagonal', 'diamond', 'cyan'),
    ('train', 'orbit', 'square', 'orange'),
    ('train', 'horizontal', 'triangle', 'white'),
    ('train', 'rotate', 'star', 'red'),
    ('train', 'scale', 'circle', 'green'),
    ('train', 'bounce', 'circle', 'blue'),
    ('train', 'shake', 'square', 'green'),
    ('train', 'blink', 'triangle', 'red'),
    ('train', 'pulse', 'diamond', 'yellow'),
    ('val', 'vertical', 'triangle', 'blue'),
    ('val', 'fade', 'square', 'yellow'),
    ('val', 'shake', 'triangle', 'orange'),
    ('val', 'pulse', 'circle', 'cyan'),
    ('test', 'horizontal', 'star', 'magenta'),
    ('test', 'rotate', 'square', 'cyan'),
    ('test', 'scale', 'circle', 'orange'),
    ('test', 'vertical', 'diamond', 'white'),
    ('test', 'bounce', 'circle', 'white'),
    ('test', 'blink', 'star', 'blue'),
)


def _object_phrase(shape: str, colour: str) -> str:
    article = 'an' if colour[0] in 'aeiou' else 'a'
    return f'{article} {colour} {shape}'


def _slug(name: str) -> str:
    return ''.join(c if c.isalnum() else '_' for c in name).strip('_')


def get_class_specs() -> List[dict]:
    """Build the list of classes, in label order.

    Classes are ordered by split (train, val, test); within a split the two
    classes of a temporal pair are adjacent, forward first.

    Returns:
        list[dict]: One dict per class with keys ``label``, ``name``,
        ``split``, ``shape``, ``colour``, ``motion``, ``reverse`` (whether
        the frames of the motion are played backwards) and ``pair`` (the
        label of the other member of its temporal pair, or None).
    """
    specs = []
    for split in SPLITS:
        for row_split, motion, shape, colour in CLASS_TABLE:
            if row_split != split:
                continue
            obj = _object_phrase(shape, colour)
            base = dict(split=split, shape=shape, colour=colour,
                        motion=motion)
            if motion in PAIRED_MOTIONS:
                fwd, rev = PAIRED_MOTIONS[motion]
                label = len(specs)
                specs.append(dict(base, label=label,
                                  name=fwd.format(obj=obj), reverse=False,
                                  pair=label + 1))
                specs.append(dict(base, label=label + 1,
                                  name=rev.format(obj=obj), reverse=True,
                                  pair=label))
            else:
                specs.append(dict(base, label=len(specs),
                                  name=SINGLE_MOTIONS[motion].format(obj=obj),
                                  reverse=False, pair=None))
    return specs


def get_temporal_pairs(specs: Optional[List[dict]] = None
                       ) -> List[Tuple[int, int]]:
    """List the temporal pairs as (forward label, reversed label).

    Args:
        specs (list[dict], optional): Output of :func:`get_class_specs`.
            Defaults to None (build it).

    Returns:
        list[tuple[int, int]]: The pairs, in label order.
    """
    specs = get_class_specs() if specs is None else specs
    return [(s['label'], s['pair']) for s in specs
            if s['pair'] is not None and not s['reverse']]


def video_rng(seed: int, label: int, index: int) -> np.random.Generator:
    """Random generator of one video, independent of generation order.

    Args:
        seed (int): Dataset seed.
        label (int): Class label.
        index (int): Index of the video within its class.

    Returns:
        np.random.Generator: A generator seeded from the three numbers.
    """
    return np.random.default_rng([seed, label, index])


# ---------------------------------------------------------------- shapes


def _shape_points(shape: str) -> np.ndarray:
    """Outline of a shape with circumradius 1, centred at the origin."""
    if shape == 'circle':
        ang = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        return np.stack([np.cos(ang), np.sin(ang)], 1)
    if shape == 'square':
        s = np.sqrt(0.5)
        return np.array([[-s, -s], [s, -s], [s, s], [-s, s]])
    if shape == 'triangle':
        ang = -np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        return np.stack([np.cos(ang), np.sin(ang)], 1)
    if shape == 'star':
        ang = -np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        return np.stack([rad * np.cos(ang), rad * np.sin(ang)], 1)
    if shape == 'diamond':
        return np.array([[0, -1], [0.62, 0], [0, 1], [-0.62, 0]])
    raise ValueError(f'unknown shape {shape!r}')


def _draw_mask(mask: np.ndarray, shape: str, x: float, y: float,
               radius: float, angle: float) -> None:
    """Draw a filled, anti-aliased shape into a uint8 mask in place.

    ``angle`` is in radians; with image y pointing down, a growing angle
    turns the shape clockwise on screen.
    """
    pts = _shape_points(shape) * radius
    cos, sin = np.cos(angle), np.sin(angle)
    rot = np.stack([pts[:, 0] * cos - pts[:, 1] * sin,
                    pts[:, 0] * sin + pts[:, 1] * cos], 1)
    rot += (x, y)
    shift = 4
    fixed = np.round(rot * (1 << shift)).astype(np.int32)
    cv2.fillPoly(mask, [fixed], 255, cv2.LINE_AA, shift)


# --------------------------------------------------------------- motions


def _ramp(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Progress 0 -> 1 between a random start and end time (speed)."""
    t0 = rng.uniform(0.0, 0.2)
    t1 = rng.uniform(0.8, 1.0)
    return np.clip((t - t0) / (t1 - t0), 0.0, 1.0)


def motion_trajectory(motion: str, rng: np.random.Generator,
                      num_frames: int, size: int) -> Dict[str, np.ndarray]:
    """Per-frame object state of the *forward* version of a motion.

    Args:
        motion (str): A key of ``PAIRED_MOTIONS`` or ``SINGLE_MOTIONS``.
        rng (np.random.Generator): The video's random generator.
        num_frames (int): Number of frames.
        size (int): Frame side in pixels.

    Returns:
        dict[str, np.ndarray]: Arrays of length ``num_frames``: ``x``,
        ``y`` (centre, pixels), ``radius`` (pixels), ``angle`` (radians)
        and ``alpha`` (opacity in [0, 1]).
    """
    n = num_frames
    t = np.linspace(0.0, 1.0, n)
    base = size * rng.uniform(0.11, 0.17)
    angle0 = rng.uniform(-0.2, 0.2)
    state = dict(radius=np.full(n, base), angle=np.full(n, angle0),
                 alpha=np.ones(n))

    def free_pos(margin: float) -> Tuple[float, float]:
        return (rng.uniform(margin, size - margin),
                rng.uniform(margin, size - margin))

    margin = base + 2
    if motion in ('horizontal', 'vertical', 'diagonal'):
        p = _ramp(rng, t)
        lo, hi = margin, size - margin
        a = rng.uniform(lo, lo + 0.3 * (hi - lo))
        b = rng.uniform(hi - 0.3 * (hi - lo), hi)
        if motion == 'diagonal':
            a2 = rng.uniform(lo, lo + 0.3 * (hi - lo))
            b2 = rng.uniform(hi - 0.3 * (hi - lo), hi)
            x, y = a + (b - a) * p, a2 + (b2 - a2) * p
        else:
            along = a + (b - a) * p
            across = np.full(n, rng.uniform(lo, hi))
            x, y = ((along, across) if motion == 'horizontal'
                    else (across, along))
        state.update(x=x, y=y)
    elif motion in ('scale', 'pulse'):
        if motion == 'scale':
            p = _ramp(rng, t)
            s0, s1 = rng.uniform(0.35, 0.6), rng.uniform(1.15, 1.5)
            scale = s0 + (s1 - s0) * p
        else:
            freq = rng.uniform(1.5, 3.0)
            amp = rng.uniform(0.25, 0.4)
            scale = 1.1 + amp * np.sin(
                2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
        state['radius'] = base * scale
        x, y = free_pos(base * scale.max() + 2)
        state.update(x=np.full(n, x), y=np.full(n, y))
    elif motion == 'rotate':
        p = _ramp(rng, t)
        total = np.deg2rad(rng.uniform(90, 180))
        state['angle'] = rng.uniform(0, 2 * np.pi) + total * p
        state['radius'] = np.full(n, base * 1.2)
        x, y = free_pos(base * 1.2 + 2)
        state.update(x=np.full(n, x), y=np.full(n, y))
    elif motion in ('fade', 'blink'):
        if motion == 'fade':
            state['alpha'] = _ramp(rng, t)
        else:
            freq = rng.uniform(2.0, 3.5)
            wave = np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
            state['alpha'] = (wave > 0).astype(np.float64)
        x, y = free_pos(margin)
        state.update(x=np.full(n, x), y=np.full(n, y))
    elif motion == 'orbit':
        p = _ramp(rng, t)
        orbit = size * rng.uniform(0.18, 0.26)
        reach = orbit + margin
        cx = rng.uniform(reach, size - reach)
        cy = rng.uniform(reach, size - reach)
        phi = rng.uniform(0, 2 * np.pi) + np.deg2rad(
            rng.uniform(180, 300)) * p
        state.update(x=cx + orbit * np.cos(phi), y=cy + orbit * np.sin(phi))
    elif motion == 'bounce':
        floor = size - margin - rng.uniform(0, 0.1 * size)
        height = rng.uniform(0.35, 0.6) * (floor - margin)
        bounces = rng.uniform(1.5, 3.0)
        phase = rng.uniform(0, 1)
        y = floor - height * np.abs(np.sin(np.pi * (bounces * t + phase)))
        x0 = rng.uniform(margin + 0.15 * size, size - margin - 0.15 * size)
        drift = rng.uniform(-0.15, 0.15) * size
        state.update(x=x0 + drift * (t - 0.5), y=y)
    elif motion == 'shake':
        freq = rng.uniform(2.5, 4.0)
        amp = rng.uniform(0.06, 0.12) * size
        x0, y0 = free_pos(margin + amp)
        x = x0 + amp * np.sin(
            2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
        state.update(x=x, y=np.full(n, y0))
    else:
        raise ValueError(f'unknown motion {motion!r}')
    return state


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A muted, smoothly textured background with fine-grained noise."""
    grey = rng.uniform(40, 115)
    tint = rng.uniform(-15, 15, size=3)
    cells = int(rng.integers(3, 9))
    blobs = rng.uniform(-25, 25, size=(cells, cells, 3)).astype(np.float32)
    texture = cv2.resize(blobs, (size, size), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, rng.uniform(2, 8), size=(size, size, 3))
    return (grey + tint + texture + grain).astype(np.float32)


def render_frames(spec: dict, rng: np.random.Generator,
                  num_frames: int = 16, size: int = 96) -> np.ndarray:
    """Render the frames of one video of a class.

    The forward motion is rendered frame by frame; for the reversed class
    of a temporal pair the finished frames are put in reverse order. With
    equal generators the two classes thus give exactly time-reversed
    videos.

    Args:
        spec (dict): A class from :func:`get_class_specs` (uses ``shape``,
            ``colour``, ``motion`` and ``reverse``).
        rng (np.random.Generator): The video's random generator, e.g. from
            :func:`video_rng`.
        num_frames (int): Number of frames. Defaults to 16.
        size (int): Frame width and height in pixels. Defaults to 96.

    Returns:
        np.ndarray: uint8 array ``[num_frames, size, size, 3]`` in BGR
        order.
    """
    state = motion_trajectory(spec['motion'], rng, num_frames, size)
    background = _background(rng, size)
    colour = np.clip(np.array(COLOURS[spec['colour']], np.float32) +
                     rng.uniform(-20, 20, size=3), 0, 255)
    noise = rng.uniform(1, 4)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    mask = np.zeros((size, size), np.uint8)
    for i in range(num_frames):
        mask[:] = 0
        _draw_mask(mask, spec['shape'], state['x'][i], state['y'][i],
                   state['radius'][i], state['angle'][i])
        weight = (mask.astype(np.float32) / 255 * state['alpha'][i])[..., None]
        frame = background * (1 - weight) + colour * weight
        frame += rng.normal(0, noise, size=frame.shape)
        frames[i] = np.clip(np.round(frame), 0, 255).astype(np.uint8)
    if spec['reverse']:
        frames = frames[::-1].copy()
    return frames


def write_video(path: str, frames: np.ndarray, fps: int = FPS) -> None:
    """Write BGR frames to an mp4 file (codec 'mp4v') atomically.

    The video is written to a temporary file next to ``path`` first and
    renamed once complete.

    Args:
        path (str): Output path ending in ``.mp4``.
        frames (np.ndarray): uint8 array ``[T, H, W, 3]`` in BGR order.
        fps (int): Frame rate. Defaults to 8.
    """
    height, width = frames.shape[1:3]
    tmp = osp.join(osp.dirname(path), '.tmp_' + osp.basename(path))
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write mp4v video {tmp}')
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame))
    finally:
        writer.release()
    os.replace(tmp, path)


def video_name(spec: dict, index: int) -> str:
    """File name of a video, relative to ``out_dir``.

    Args:
        spec (dict): A class from :func:`get_class_specs`.
        index (int): Index of the video within its class.

    Returns:
        str: E.g. ``'videos/00_moving_a_red_circle_..._003.mp4'``.
    """
    slug = _slug(spec['name'])
    return f"videos/{spec['label']:02d}_{slug}_{index:03d}.mp4"


def _make_one(out_dir: str, spec: dict, index: int, seed: int,
              num_frames: int, size: int) -> str:
    """Render and write one video; return its path relative to out_dir."""
    frames = render_frames(spec, video_rng(seed, spec['label'], index),
                           num_frames, size)
    rel = video_name(spec, index)
    write_video(osp.join(out_dir, rel), frames)
    return rel


# A worker is a fresh interpreter that loads this file by path. Forking
# after OpenCV has started its thread pool can deadlock the child, and
# spawning by module name would import the whole package.
_WORKER_CODE = (
    'import importlib.util as u, sys\n'
    's = u.spec_from_file_location("_mafsar_synthetic_worker", sys.argv[1])\n'
    'm = u.module_from_spec(s)\n'
    's.loader.exec_module(m)\n'
    'm._worker_main()\n')


def _worker_main() -> None:
    """Entry point of a worker process: read a job as JSON from stdin."""
    cv2.setNumThreads(1)
    job = json.load(sys.stdin)
    specs = get_class_specs()
    for label, index in job['tasks']:
        _make_one(job['out_dir'], specs[label], index, job['seed'],
                  job['num_frames'], job['size'])


def _run_workers(out_dir: str, tasks: List[Tuple[int, int]], seed: int,
                 num_frames: int, size: int, workers: int) -> None:
    """Render ``(label, index)`` tasks in ``workers`` processes."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    procs = []
    try:
        for w in range(workers):
            job = dict(out_dir=osp.abspath(out_dir), seed=seed,
                       num_frames=num_frames, size=size,
                       tasks=tasks[w::workers])
            proc = subprocess.Popen(
                [sys.executable, '-c', _WORKER_CODE, osp.abspath(__file__)],
                stdin=subprocess.PIPE, env=env)
            procs.append(proc)
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        failed = [p.args for p in procs if p.wait() != 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if failed:
        raise RuntimeError(f'{len(failed)} synthetic video worker(s) failed')


def _write_text(path: str, text: str) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def _settings(videos_per_class: int, num_frames: int, size: int,
              seed: int) -> dict:
    return dict(seed=seed, videos_per_class=videos_per_class,
                num_frames=num_frames, size=size, fps=FPS)


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
                    seed: int = 0) -> bool:
    """Whether a complete dataset in ``out_dir`` has the given settings.

    Args:
        out_dir (str): Dataset directory.
        videos_per_class (int): Videos per class. Defaults to 20.
        num_frames (int): Frames per video. Defaults to 16.
        size (int): Frame side in pixels. Defaults to 96.
        seed (int): Dataset seed. Defaults to 0.

    Returns:
        bool: True if complete and generated with these settings.
    """
    if not is_dataset_complete(out_dir):
        return False
    meta = load_meta(out_dir)
    wanted = _settings(videos_per_class, num_frames, size, seed)
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
                           seed: int = 0, workers: int = 2) -> dict:
    """Generate the synthetic temporal dataset into ``out_dir``.

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

    Returns:
        dict: Summary with ``out_dir``, ``num_classes``, ``num_videos``,
        ``classes_per_split``, ``videos_per_split`` and
        ``pairs_per_split``.
    """
    check_settings(videos_per_class, num_frames, size)
    specs = get_class_specs()
    pairs = get_temporal_pairs(specs)
    os.makedirs(osp.join(out_dir, 'videos'), exist_ok=True)
    meta_path = osp.join(out_dir, 'meta.json')
    if osp.exists(meta_path):
        os.remove(meta_path)

    tasks = [(spec['label'], i) for spec in specs
             for i in range(videos_per_class)]
    if workers > 1:
        _run_workers(out_dir, tasks, seed, num_frames, size,
                     min(workers, len(tasks)))
    else:
        for label, index in tasks:
            _make_one(out_dir, specs[label], index, seed, num_frames, size)

    _write_text(osp.join(out_dir, 'classes.txt'),
                ''.join(s['name'] + '\n' for s in specs))
    by_split = {split: [] for split in SPLITS}
    for label, index in tasks:
        spec = specs[label]
        name = video_name(spec, index)
        by_split[spec['split']].append(f'{name} {label}\n')
    for split in SPLITS:
        _write_text(osp.join(out_dir, f'{split}.txt'),
                    ''.join(by_split[split]))

    split_labels = {split: [s['label'] for s in specs if s['split'] == split]
                    for split in SPLITS}
    summary = dict(
        out_dir=out_dir,
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
        **_settings(videos_per_class, num_frames, size, seed),
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
    _write_text(meta_path, json.dumps(meta, indent=2) + '\n')
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


def summarize_classes(specs: Optional[Sequence[dict]] = None) -> str:
    """A readable table of the classes with split and pair.

    Args:
        specs (Sequence[dict], optional): Output of
            :func:`get_class_specs`. Defaults to None (build it).

    Returns:
        str: One line per class.
    """
    specs = get_class_specs() if specs is None else specs
    lines = []
    for s in specs:
        pair = '' if s['pair'] is None else f"  (pair with {s['pair']})"
        lines.append(f"{s['label']:2d} {s['split']:5s} {s['name']}{pair}")
    return '\n'.join(lines)
