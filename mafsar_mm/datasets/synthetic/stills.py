"""Captioned still frames for pretraining a tiny CLIP.

Each still is one frame drawn with the same primitives as the synthetic
videos (shapes, colours, backgrounds, noise), and a caption of what is
visible in it: objects, colours, shapes, sizes, positions, counts and the
background. There is no motion and nothing is taken from a video of any
class, so a CLIP pretrained on these knows what things look like but not
how they move, like a CLIP pretrained on web images.
"""
from typing import List, Tuple

import numpy as np

from .classes import object_phrase
from .drawing import (COLOURS, SHAPES, background, blend, draw_mask,
                      noisy_uint8)

_COLOUR_NAMES = tuple(COLOURS)
_NUMBERS = {2: 'two', 3: 'three'}
_PLURALS = {
    'circle': 'circles', 'square': 'squares', 'triangle': 'triangles',
    'star': 'stars', 'diamond': 'diamonds'
}


def _position_phrase(x: float, y: float, size: int) -> str:
    """'at the top left', 'on the right', 'in the centre', ..."""
    col = ('left', None, 'right')[min(int(3 * x / size), 2)]
    row = ('top', None, 'bottom')[min(int(3 * y / size), 2)]
    if row and col:
        return f'at the {row} {col}'
    if row:
        return f'at the {row}'
    if col:
        return f'on the {col}'
    return 'in the centre'


def _with_article(words: str) -> str:
    return ('an ' if words[0] in 'aeiou' else 'a ') + words


def _draw_object(rng: np.random.Generator, size: int,
                 taken: List[Tuple[float, float, float]], shape: str,
                 colour: str, big: bool) -> dict:
    """Choose a free place and the looks of one object."""
    radius = size * (rng.uniform(0.15, 0.21) if big else
                     rng.uniform(0.07, 0.1))
    for _ in range(20):
        x = rng.uniform(radius + 1, size - radius - 1)
        y = rng.uniform(radius + 1, size - radius - 1)
        if all(np.hypot(x - a, y - b) > radius + r + 2 for a, b, r in taken):
            break
    taken.append((x, y, radius))
    look = rng.random()
    obj = dict(shape=shape, colour=colour, x=x, y=y, radius=radius,
               angle=rng.uniform(0, 2 * np.pi), alpha=1.0, stretch=1.0,
               shade=1.0, modifier=None)
    if look < 0.08:
        obj.update(alpha=rng.uniform(0.35, 0.55), modifier='faint')
    elif look < 0.16:
        obj.update(shade=rng.uniform(0.3, 0.45), modifier='dark')
    elif look < 0.24:
        obj.update(stretch=rng.uniform(2.0, 3.0), angle=0.0,
                   modifier='wide')
    elif look < 0.32:
        obj.update(stretch=rng.uniform(0.33, 0.5), angle=0.0,
                   modifier='tall')
    return obj


def _describe(obj: dict, rng: np.random.Generator, size: int) -> str:
    """A noun phrase for one object, some attributes randomly left out."""
    words = [obj['colour'], obj['shape']]
    if obj['modifier'] and rng.random() < 0.8:
        words.insert(0, obj['modifier'])
    if rng.random() < 0.5:
        words.insert(0, 'large' if obj['radius'] > 0.12 * size else 'small')
    phrase = _with_article(' '.join(words))
    if rng.random() < 0.5:
        phrase += ' ' + _position_phrase(obj['x'], obj['y'], size)
    return phrase


def render_still(rng: np.random.Generator,
                 size: int = 72) -> Tuple[np.ndarray, str]:
    """Render one captioned still frame.

    Args:
        rng (np.random.Generator): Random generator.
        size (int): Image side in pixels. Defaults to 72.

    Returns:
        tuple[np.ndarray, str]: uint8 ``[size, size, 3]`` BGR image and its
        caption, e.g. ``'a large red circle at the top left'``.
    """
    scene = background(rng, size)
    kind = rng.random()
    taken = []
    if kind < 0.55:  # one object
        objs = [_draw_object(rng, size, taken, rng.choice(SHAPES),
                             rng.choice(_COLOUR_NAMES), rng.random() < 0.5)]
        caption = _describe(objs[0], rng, size)
    elif kind < 0.8:  # two different objects
        shapes = rng.choice(SHAPES, 2)
        colours = rng.choice(_COLOUR_NAMES, 2, replace=False)
        objs = [
            _draw_object(rng, size, taken, s, c, rng.random() < 0.4)
            for s, c in zip(shapes, colours)
        ]
        for obj in objs:  # the caption names no per-object modifiers
            obj.update(alpha=1.0, shade=1.0, stretch=1.0, modifier=None)
        a, b = (object_phrase(o['shape'], o['colour']) for o in objs)
        dx, dy = objs[1]['x'] - objs[0]['x'], objs[1]['y'] - objs[0]['y']
        if rng.random() < 0.5 and max(abs(dx), abs(dy)) > 0.2 * size:
            if abs(dx) > abs(dy):
                rel = 'to the left of' if dx > 0 else 'to the right of'
            else:
                rel = 'above' if dy > 0 else 'below'
            caption = f'{a} {rel} {b}'
        else:
            caption = f'{a} and {b}'
    else:  # two or three of the same
        count = int(rng.integers(2, 4))
        shape, colour = rng.choice(SHAPES), rng.choice(_COLOUR_NAMES)
        objs = [
            _draw_object(rng, size, taken, shape, colour, False)
            for _ in range(count)
        ]
        for obj in objs:  # the caption names no per-object modifiers
            obj.update(alpha=1.0, shade=1.0, stretch=1.0, modifier=None)
        caption = f'{_NUMBERS[count]} {colour} {_PLURALS[shape]}'
    mask = np.zeros((size, size), np.uint8)
    frame = scene
    for obj in objs:
        mask[:] = 0
        draw_mask(mask, obj['shape'], obj['x'], obj['y'], obj['radius'],
                  obj['angle'], obj['stretch'])
        colour = np.clip(
            np.array(COLOURS[obj['colour']], np.float32) +
            rng.uniform(-20, 20, size=3), 0, 255) * obj['shade']
        frame = blend(frame, mask, colour, obj['alpha'])
    if rng.random() < 0.25:
        tone = 'dark' if scene.mean() < 75 else 'grey'
        caption += f' on a {tone} background'
    return noisy_uint8(frame, rng, rng.uniform(1, 4)), caption


def render_stills(num: int, seed: int = 0,
                  size: int = 72) -> Tuple[np.ndarray, List[str]]:
    """Render ``num`` captioned stills, deterministically for ``seed``.

    Args:
        num (int): Number of stills.
        seed (int): Seed. Defaults to 0.
        size (int): Image side in pixels. Defaults to 72.

    Returns:
        tuple[np.ndarray, list[str]]: uint8 ``[num, size, size, 3]`` BGR
        images and their captions.
    """
    images = np.empty((num, size, size, 3), np.uint8)
    captions = []
    for i in range(num):
        images[i], caption = render_still(
            np.random.default_rng([seed, 7, i]), size)
        captions.append(caption)
    return images, captions
