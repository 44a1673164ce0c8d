"""Motions and rendering of the *temporal* synthetic flavour.

In this flavour (SSv2-like) only the motion names a class: the shape,
colour, size, background, speed and position of the objects are drawn
independently for every video, and the class names speak of "something"
("moving something from left to right"). A model can only recognise the
classes from how things change over time.
"""
from typing import Dict

import numpy as np

from .drawing import (COLOURS, SHAPES, blend, draw_mask,
                      noisy_uint8)
from .motions import ramp
from .styles import style_background

# Shapes whose rotation is visible (a rotating circle looks still).
_ROTATABLE = tuple(s for s in SHAPES if s != 'circle')
# Motions that turn the object: drawn with a rotatable shape.
_TURNING = ('rotate', 'wobble', 'roll')


def _oscillation(rng: np.random.Generator, t: np.ndarray,
                 low: float, high: float) -> np.ndarray:
    """A sine of random frequency in [low, high] cycles and random phase."""
    freq = rng.uniform(low, high)
    return np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))


def _segment(rng: np.random.Generator, lo: float, hi: float):
    """Start in the first and end in the last 30% of [lo, hi]."""
    span = hi - lo
    return (rng.uniform(lo, lo + 0.3 * span),
            rng.uniform(hi - 0.3 * span, hi))


def temporal_trajectory(motion: str, rng: np.random.Generator,
                        num_frames: int, size: int,
                        base: float) -> Dict[str, np.ndarray]:
    """Per-frame state of the forward version of a temporal motion.

    Args:
        motion (str): A key of ``TEMPORAL_PAIRED`` or ``TEMPORAL_SINGLE``
            (see :mod:`.classes`).
        rng (np.random.Generator): The video's random generator.
        num_frames (int): Number of frames.
        size (int): Frame side in pixels.
        base (float): Object circumradius in pixels.

    Returns:
        dict[str, np.ndarray]: Arrays of length ``num_frames``: ``x``,
        ``y``, ``radius``, ``angle``, ``alpha``, ``stretch``,
        ``brightness``; optionally ``x2``/``y2`` (a second object),
        ``cover`` (left edge of an occluding bar) and ``cam`` (horizontal
        camera offset in pixels, the scene being wider than the frame).
    """
    n = num_frames
    t = np.linspace(0.0, 1.0, n)
    margin = base + 2
    lo, hi = margin, size - margin
    x0, y0 = rng.uniform(lo, hi), rng.uniform(lo, hi)
    s = dict(x=np.full(n, x0), y=np.full(n, y0), radius=np.full(n, base),
             angle=np.full(n, rng.uniform(-0.2, 0.2)), alpha=np.ones(n),
             stretch=np.ones(n), brightness=np.ones(n))
    if motion in ('horizontal', 'vertical', 'diagonal', 'antidiagonal'):
        p = ramp(rng, t)
        a, b = _segment(rng, lo, hi)
        if motion == 'horizontal':
            s['x'] = a + (b - a) * p
        elif motion == 'vertical':
            s['y'] = a + (b - a) * p
        else:
            a2, b2 = _segment(rng, lo, hi)
            s['x'] = a + (b - a) * p
            # diagonal: top left -> bottom right; anti: bottom left -> top
            # right (image y points down)
            s['y'] = (a2 + (b2 - a2) * p if motion == 'diagonal' else
                      b2 + (a2 - b2) * p)
    elif motion == 'arc':
        # a parabola through the air, left to right
        p = ramp(rng, t)
        a, b = _segment(rng, lo, hi)
        floor = rng.uniform(hi - 0.25 * (hi - lo), hi)
        height = rng.uniform(0.4, 0.7) * (floor - lo)
        s['x'] = a + (b - a) * p
        s['y'] = floor - height * 4 * p * (1 - p)
    elif motion == 'roll':
        # moving right while turning clockwise as if rolling on the floor
        p = ramp(rng, t)
        a, b = _segment(rng, lo, hi)
        s['x'] = a + (b - a) * p
        s['y'][:] = rng.uniform(hi - 0.2 * (hi - lo), hi)
        s['angle'] = s['angle'] + (s['x'] - a) / base
    elif motion == 'fall':
        p = ramp(rng, t)**2  # accelerating downwards
        a, b = _segment(rng, lo, hi)
        s['y'] = a + (b - a) * p
    elif motion == 'scale':
        p = ramp(rng, t)
        s['radius'] = base * (rng.uniform(0.35, 0.6) +
                              (rng.uniform(1.15, 1.5) - 0.5) * p)
        reach = s['radius'].max() + 2
        s['x'][:] = rng.uniform(reach, size - reach)
        s['y'][:] = rng.uniform(reach, size - reach)
    elif motion == 'stretch':
        s['stretch'] = 1.0 + rng.uniform(1.2, 2.0) * ramp(rng, t)
    elif motion == 'rotate':
        s['angle'] = rng.uniform(0, 2 * np.pi) + np.deg2rad(
            rng.uniform(90, 180)) * ramp(rng, t)
    elif motion == 'fade':
        s['alpha'] = ramp(rng, t)
    elif motion == 'brighten':
        s['brightness'] = 0.3 + 0.7 * ramp(rng, t)
    elif motion in ('orbit', 'spiral'):
        p = ramp(rng, t)
        orbit = size * rng.uniform(0.2, 0.28)
        cx = rng.uniform(orbit + margin, size - orbit - margin)
        cy = rng.uniform(orbit + margin, size - orbit - margin)
        phi = rng.uniform(0, 2 * np.pi) + np.deg2rad(
            rng.uniform(200, 320)) * p
        rad = orbit * (1 - 0.85 * p) if motion == 'spiral' else orbit
        s['x'], s['y'] = cx + rad * np.cos(phi), cy + rad * np.sin(phi)
    elif motion == 'approach':
        # the other object stays; this one ends next to it
        p = ramp(rng, t)
        x2, y2 = rng.uniform(lo, hi), rng.uniform(lo, hi)
        direction = rng.uniform(0, 2 * np.pi)
        far = size * rng.uniform(0.45, 0.6)
        near = 2.3 * base
        dist = far + (near - far) * p
        s['x'] = np.clip(x2 + dist * np.cos(direction), lo, hi)
        s['y'] = np.clip(y2 + dist * np.sin(direction), lo, hi)
        s['x2'], s['y2'] = np.full(n, x2), np.full(n, y2)
    elif motion == 'together':
        p = ramp(rng, t)
        cy = rng.uniform(lo, hi)
        gap0 = rng.uniform(0.3, 0.4) * size
        gap = gap0 + (1.15 * base - gap0) * p
        cx = size / 2 + rng.uniform(-0.05, 0.05) * size
        s['x'], s['y'] = cx - gap, np.full(n, cy)
        s['x2'], s['y2'] = cx + gap, np.full(n, cy)
    elif motion == 'cover':
        # a bar slides in from one side until it hides the object
        p = ramp(rng, t)
        bar = 2.6 * base
        hidden = x0 - bar / 2
        start = -bar - 1 if rng.random() < 0.5 else size + 1
        s['cover'] = start + (hidden - start) * p
    elif motion == 'pan':
        # camera moves right: the scene slides to the left
        s['cam'] = rng.uniform(0.25, 0.4) * size * ramp(rng, t)
    elif motion == 'bounce':
        floor = size - margin - rng.uniform(0, 0.1 * size)
        height = rng.uniform(0.35, 0.6) * (floor - margin)
        bounces = rng.uniform(1.5, 3.0)
        s['y'] = floor - height * np.abs(
            np.sin(np.pi * (bounces * t + rng.uniform(0, 1))))
    elif motion in ('shake', 'nod'):
        amp = rng.uniform(0.06, 0.12) * size
        key = 'x' if motion == 'shake' else 'y'
        centre = np.clip(s[key][0], lo + amp, hi - amp)
        s[key] = centre + amp * _oscillation(rng, t, 2.5, 4.0)
    elif motion == 'pulse':
        s['radius'] = base * (1.1 + rng.uniform(0.25, 0.4) *
                              _oscillation(rng, t, 1.5, 3.0))
    elif motion == 'blink':
        s['alpha'] = (_oscillation(rng, t, 2.0, 3.5) > 0).astype(float)
    elif motion == 'wobble':
        s['angle'] = s['angle'] + np.deg2rad(rng.uniform(
            20, 35)) * _oscillation(rng, t, 1.5, 3.0)
    elif motion == 'jitter':
        amp = rng.uniform(0.02, 0.04) * size
        s['x'] = s['x'] + rng.normal(0, amp, n)
        s['y'] = s['y'] + rng.normal(0, amp, n)
    elif motion == 'swing':
        length = size * rng.uniform(0.3, 0.45)
        px = rng.uniform(length * 0.6 + margin, size - length * 0.6 - margin)
        py = rng.uniform(0.02, 0.15) * size
        theta = np.deg2rad(rng.uniform(25, 40)) * _oscillation(
            rng, t, 1.0, 2.0)
        s['x'] = px + length * np.sin(theta)
        s['y'] = py + length * np.cos(theta)
    else:
        raise ValueError(f'unknown temporal motion {motion!r}')
    return s


def _pick_colour(rng: np.random.Generator, avoid: str = None):
    names = [c for c in COLOURS if c != avoid]
    name = names[int(rng.integers(len(names)))]
    jitter = rng.uniform(-20, 20, size=3)
    return name, np.clip(np.array(COLOURS[name], np.float32) + jitter, 0,
                         255)


def render_temporal_frames(spec: dict, rng: np.random.Generator,
                           num_frames: int, size: int) -> np.ndarray:
    """Render one video of a temporal-flavour class.

    The appearance (shapes, colours, size, background, noise) is drawn
    from ``rng`` independently of the class; the motion comes from
    ``spec['motion']`` and is played backwards when ``spec['reverse']``.

    Args:
        spec (dict): A class with ``motion`` and ``reverse``.
        rng (np.random.Generator): The video's random generator.
        num_frames (int): Number of frames.
        size (int): Frame side in pixels.

    Returns:
        np.ndarray: uint8 ``[num_frames, size, size, 3]`` in BGR order.
    """
    motion = spec['motion']
    shapes = _ROTATABLE if motion in _TURNING else SHAPES
    shape = shapes[int(rng.integers(len(shapes)))]
    colour_name, colour = _pick_colour(rng)
    base = size * rng.uniform(0.09, 0.16)
    state = temporal_trajectory(motion, rng, num_frames, size, base)
    cam = np.round(state.get('cam', np.zeros(num_frames))).astype(int)
    width = size + int(cam.max())
    scene = style_background(rng, spec.get('style', 'blobs'), size, width)
    shape2 = SHAPES[int(rng.integers(len(SHAPES)))]
    colour2 = _pick_colour(rng, avoid=colour_name)[1]
    bar_colour = np.full(3, rng.uniform(130, 200), np.float32)
    noise = rng.uniform(1, 4)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    mask = np.zeros((size, width), np.uint8)
    for i in range(num_frames):
        frame = scene
        if 'x2' in state:
            mask[:] = 0
            draw_mask(mask, shape2, state['x2'][i], state['y2'][i], base,
                      0.0)
            frame = blend(frame, mask, colour2)
        mask[:] = 0
        draw_mask(mask, shape, state['x'][i], state['y'][i],
                  state['radius'][i], state['angle'][i],
                  state['stretch'][i])
        frame = blend(frame, mask, colour * state['brightness'][i],
                      state['alpha'][i])
        if 'cover' in state:
            left = state['cover'][i]
            frame = frame.copy()
            a, b = int(max(round(left), 0)), int(
                min(round(left + 2.6 * base), width))
            if b > a:
                frame[:, a:b] = bar_colour
        frame = frame[:, cam[i]:cam[i] + size]
        frames[i] = noisy_uint8(frame, rng, noise)
    if spec['reverse']:
        frames = frames[::-1].copy()
    return frames
