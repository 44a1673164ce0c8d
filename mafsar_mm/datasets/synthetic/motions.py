"""Object trajectories of the motions of the synthetic datasets.

A trajectory is the per-frame state of one object (centre, size, angle,
opacity) of the *forward* version of a motion; the reversed class of a
temporal pair plays the rendered frames backwards.
"""
from typing import Dict, Tuple

import numpy as np


def ramp(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
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
        p = ramp(rng, t)
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
            p = ramp(rng, t)
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
        p = ramp(rng, t)
        total = np.deg2rad(rng.uniform(90, 180))
        state['angle'] = rng.uniform(0, 2 * np.pi) + total * p
        state['radius'] = np.full(n, base * 1.2)
        x, y = free_pos(base * 1.2 + 2)
        state.update(x=np.full(n, x), y=np.full(n, y))
    elif motion in ('fade', 'blink'):
        if motion == 'fade':
            state['alpha'] = ramp(rng, t)
        else:
            freq = rng.uniform(2.0, 3.5)
            wave = np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
            state['alpha'] = (wave > 0).astype(np.float64)
        x, y = free_pos(margin)
        state.update(x=np.full(n, x), y=np.full(n, y))
    elif motion == 'orbit':
        p = ramp(rng, t)
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
