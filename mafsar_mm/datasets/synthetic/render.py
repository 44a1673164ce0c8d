"""Render the frames of one synthetic video of a class."""
import numpy as np

from .drawing import COLOURS, blend, draw_mask, noisy_uint8
from .motions import motion_trajectory
from .styles import style_background
from .temporal_motions import render_temporal_frames


def _render_spatial_frames(spec: dict, rng: np.random.Generator,
                           num_frames: int, size: int) -> np.ndarray:
    """A video of a spatial-flavour class: its shape and colour do its
    motion."""
    state = motion_trajectory(spec['motion'], rng, num_frames, size)
    scene = style_background(rng, spec.get('style', 'blobs'), size)
    colour = np.clip(np.array(COLOURS[spec['colour']], np.float32) +
                     rng.uniform(-20, 20, size=3), 0, 255)
    noise = rng.uniform(1, 4)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    mask = np.zeros((size, size), np.uint8)
    for i in range(num_frames):
        mask[:] = 0
        draw_mask(mask, spec['shape'], state['x'][i], state['y'][i],
                  state['radius'][i], state['angle'][i])
        frame = blend(scene, mask, colour, state['alpha'][i])
        frames[i] = noisy_uint8(frame, rng, noise)
    if spec['reverse']:
        frames = frames[::-1].copy()
    return frames


def render_frames(spec: dict, rng: np.random.Generator,
                  num_frames: int = 16, size: int = 96) -> np.ndarray:
    """Render the frames of one video of a class.

    The forward motion is rendered frame by frame; for the reversed class
    of a temporal pair the finished frames are put in reverse order. With
    equal generators the two classes thus give exactly time-reversed
    videos.

    Args:
        spec (dict): A class from :func:`get_class_specs` (uses
            ``flavour``, ``shape``, ``colour``, ``motion`` and
            ``reverse``).
        rng (np.random.Generator): The video's random generator, e.g. from
            :func:`video_rng`.
        num_frames (int): Number of frames. Defaults to 16.
        size (int): Frame width and height in pixels. Defaults to 96.

    Returns:
        np.ndarray: uint8 array ``[num_frames, size, size, 3]`` in BGR
        order.
    """
    if spec.get('flavour', 'spatial') == 'temporal':
        return render_temporal_frames(spec, rng, num_frames, size)
    return _render_spatial_frames(spec, rng, num_frames, size)
