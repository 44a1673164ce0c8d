"""Drawing primitives of the synthetic datasets: colours, shapes, masks,
backgrounds and mp4 writing (numpy and OpenCV only)."""
import os
import os.path as osp
import uuid

import cv2
import numpy as np

FPS = 8

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

#: shapes of the tiny CLIP's pretraining stills only (the videos keep
#: :data:`SHAPES`, so their frames are unchanged)
EXTRA_SHAPES = ('hexagon', 'cross', 'arrow', 'heart', 'crescent')
ALL_SHAPES = SHAPES + EXTRA_SHAPES


def shape_points(shape: str) -> np.ndarray:
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
    if shape == 'hexagon':
        ang = np.arange(6) * np.pi / 3
        return np.stack([np.cos(ang), np.sin(ang)], 1)
    if shape == 'cross':
        a, b = 0.3, 0.95
        return np.array([[-a, -b], [a, -b], [a, -a], [b, -a], [b, a],
                         [a, a], [a, b], [-a, b], [-a, a], [-b, a],
                         [-b, -a], [-a, -a]])
    if shape == 'arrow':
        return np.array([[1, 0], [0.1, -0.75], [0.1, -0.3], [-1, -0.3],
                         [-1, 0.3], [0.1, 0.3], [0.1, 0.75]])
    if shape == 'heart':
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        x = 16 * np.sin(t)**3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) -
              np.cos(4 * t))
        return np.stack([x, y + 2.5], 1) / 17
    if shape == 'crescent':
        outer = np.linspace(-0.4 * np.pi, 1.4 * np.pi, 32) + np.pi / 2
        inner = outer[::-1]
        ring = np.stack([np.cos(outer), np.sin(outer)], 1)
        cut = np.stack([0.75 * np.cos(inner) + 0.1,
                        0.75 * np.sin(inner) - 0.3], 1)
        return np.concatenate([ring, cut])
    raise ValueError(f'unknown shape {shape!r}; supported: {ALL_SHAPES}')


def draw_mask(mask: np.ndarray, shape: str, x: float, y: float,
              radius: float, angle: float, stretch: float = 1.0) -> None:
    """Draw a filled, anti-aliased shape into a uint8 mask in place.

    Args:
        mask (np.ndarray): uint8 ``[H, W]`` mask, drawn with 255.
        shape (str): One of :data:`SHAPES`.
        x (float): Centre, pixels from the left.
        y (float): Centre, pixels from the top.
        radius (float): Circumradius in pixels.
        angle (float): Rotation in radians; with image y pointing down, a
            growing angle turns the shape clockwise on screen.
        stretch (float): Width / height factor applied before rotation
            (area kept). Defaults to 1.0.
    """
    pts = shape_points(shape) * radius
    if stretch != 1.0:
        pts = pts * (np.sqrt(stretch), 1 / np.sqrt(stretch))
    cos, sin = np.cos(angle), np.sin(angle)
    rot = np.stack([pts[:, 0] * cos - pts[:, 1] * sin,
                    pts[:, 0] * sin + pts[:, 1] * cos], 1)
    rot += (x, y)
    shift = 4
    fixed = np.round(rot * (1 << shift)).astype(np.int32)
    cv2.fillPoly(mask, [fixed], 255, cv2.LINE_AA, shift)


def background(rng: np.random.Generator, size: int,
               width: int = None) -> np.ndarray:
    """A muted, smoothly textured background with fine-grained noise.

    Args:
        rng (np.random.Generator): Random generator.
        size (int): Height in pixels.
        width (int, optional): Width in pixels. Defaults to None (``size``).

    Returns:
        np.ndarray: float32 ``[size, width, 3]`` BGR image.
    """
    width = size if width is None else width
    grey = rng.uniform(40, 115)
    tint = rng.uniform(-15, 15, size=3)
    cells = int(rng.integers(3, 9))
    blobs = rng.uniform(-25, 25, size=(cells, cells, 3)).astype(np.float32)
    texture = cv2.resize(blobs, (width, size), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, rng.uniform(2, 8), size=(size, width, 3))
    return (grey + tint + texture + grain).astype(np.float32)


def blend(frame: np.ndarray, mask: np.ndarray, colour: np.ndarray,
          alpha: float = 1.0) -> np.ndarray:
    """Paint ``colour`` into ``frame`` where ``mask`` is set.

    Args:
        frame (np.ndarray): float32 ``[H, W, 3]`` image.
        mask (np.ndarray): uint8 ``[H, W]`` mask (0..255).
        colour (np.ndarray): BGR colour, 3 floats.
        alpha (float): Opacity in [0, 1]. Defaults to 1.0.

    Returns:
        np.ndarray: The blended image (new array).
    """
    weight = (mask.astype(np.float32) / 255 * alpha)[..., None]
    return frame * (1 - weight) + colour * weight


def noisy_uint8(frame: np.ndarray, rng: np.random.Generator,
                sigma: float) -> np.ndarray:
    """Add Gaussian pixel noise and round to a uint8 image.

    Args:
        frame (np.ndarray): float ``[H, W, 3]`` image.
        rng (np.random.Generator): Random generator.
        sigma (float): Noise standard deviation.

    Returns:
        np.ndarray: uint8 image of the same shape.
    """
    frame = frame + rng.normal(0, sigma, size=frame.shape)
    return np.clip(np.round(frame), 0, 255).astype(np.uint8)


def _tmp_name(path: str, suffix: str = '') -> str:
    """A temporary name next to ``path``, unique per call, so processes
    writing the same file at once do not rename each other's file away
    (``mafsar_mm.utils.atomic_files`` is not imported: the generator runs
    without torch)."""
    return osp.join(
        osp.dirname(path),
        f'.{osp.basename(path)}.{uuid.uuid4().hex[:12]}.tmp{suffix}')


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
    tmp = _tmp_name(path, '.mp4')
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


def write_text(path: str, text: str) -> None:
    """Write a text file through a temporary file and a rename."""
    tmp = _tmp_name(path)
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)
