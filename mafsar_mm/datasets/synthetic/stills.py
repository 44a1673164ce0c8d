"""Captioned still frames for pretraining a tiny CLIP.

Each still is one frame drawn with the primitives of the synthetic videos
on a background of one of many style families (:mod:`.styles`: flat,
gradients, textures at several scales, noise, stripes, blurred clutter,
the videos' blobs), with 10 shapes (:data:`.drawing.ALL_SHAPES`) at random
sizes and rotations, colour jitter, one to three objects, relations and
partial occlusion, and a caption of what is visible: shape, colour, size,
position, count and relation. There is no motion and nothing is taken from
a video of any class, so a CLIP pretrained on these knows what things look
like but not how they move. Style families in
:data:`.styles.HELD_OUT_STYLES` are left out of pretraining and used to
measure it.
"""
from typing import List, Sequence, Tuple

import numpy as np

from .drawing import ALL_SHAPES, COLOURS, blend, draw_mask, noisy_uint8
from .styles import TRAIN_STYLES, style_background

_COLOUR_NAMES = tuple(COLOURS)
_NUMBERS = {2: 'two', 3: 'three'}
_PLURALS = {s: s + ('es' if s.endswith('ss') else 's') for s in ALL_SHAPES}
#: size word -> radius range as a fraction of the image side
_SIZES = {'small': (0.1, 0.14), 'medium': (0.15, 0.2), 'large': (0.21, 0.3)}
#: share of object phrases that name the shape alone
SHAPE_ONLY = 0.7


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


def _object(rng: np.random.Generator, size: int, shape: str, colour: str,
            size_word: str, near: dict = None) -> dict:
    """Place one object (overlapping ``near`` if given)."""
    lo, hi = _SIZES[size_word]
    radius = size * rng.uniform(lo, hi)
    if near is None:
        x = rng.uniform(radius * 0.8, size - radius * 0.8)
        y = rng.uniform(radius * 0.8, size - radius * 0.8)
    else:  # partly in front of ``near``
        ang = rng.uniform(0, 2 * np.pi)
        dist = 0.75 * (radius + near['radius'])
        x = float(np.clip(near['x'] + dist * np.cos(ang), radius,
                          size - radius))
        y = float(np.clip(near['y'] + dist * np.sin(ang), radius,
                          size - radius))
    rgb = np.clip(np.array(COLOURS[colour], np.float32) +
                  rng.uniform(-30, 30, size=3), 0, 255)
    rgb = np.clip(rgb * rng.uniform(0.75, 1.1), 0, 255)
    return dict(shape=shape, colour=colour, size=size_word, x=x, y=y,
                radius=radius, angle=rng.uniform(0, 2 * np.pi), rgb=rgb)


def _phrase(obj: dict, rng: np.random.Generator, size: int,
            position: bool = True, shape_only: float = SHAPE_ONLY) -> str:
    """A noun phrase for one object: often the shape alone ('a star'),
    otherwise with some attributes randomly left out (the shape almost
    always named, the colour half the time)."""
    # terse captions make the shape what tells most captions apart
    # (docs/tiny_clip.md)
    if rng.random() < shape_only:
        return _with_article(obj['shape'])
    words = [obj['shape']] if rng.random() < 0.95 else ['shape']
    # colour in only half the phrases: colour alone is an easy shortcut
    # (a tiny CLIP then names colours, not shapes), so the shape often
    # has to tell captions apart
    if rng.random() < 0.5:
        words.insert(0, obj['colour'])
    if rng.random() < 0.5:
        words.insert(0, obj['size'])
    phrase = _with_article(' '.join(words))
    if position and rng.random() < 0.4:
        phrase += ' ' + _position_phrase(obj['x'], obj['y'], size)
    return phrase


def _relation(a: dict, b: dict) -> str:
    dx, dy = b['x'] - a['x'], b['y'] - a['y']
    if abs(dx) > abs(dy):
        return 'to the left of' if dx > 0 else 'to the right of'
    return 'above' if dy > 0 else 'below'


def render_still(rng: np.random.Generator, size: int = 72,
                 styles: Sequence[str] = TRAIN_STYLES,
                 single: bool = False,
                 shape_only: float = SHAPE_ONLY
                 ) -> Tuple[np.ndarray, str, dict]:
    """Render one captioned still frame.

    Args:
        rng (np.random.Generator): Random generator.
        size (int): Image side in pixels. Defaults to 72.
        styles (Sequence[str]): Background families to draw from.
            Defaults to :data:`.styles.TRAIN_STYLES`.
        single (bool): Only one object (the naming metrics). Defaults to
            False.
        shape_only (float): Share of object phrases that name the shape
            alone. Defaults to :data:`SHAPE_ONLY`.

    Returns:
        tuple[np.ndarray, str, dict]: uint8 ``[size, size, 3]`` BGR image,
        its caption (e.g. ``'a large red heart at the top left'``) and the
        truth (``style``, ``count``, and ``shape``/``colour`` of the first
        object).
    """
    style = styles[int(rng.integers(len(styles)))]
    scene = style_background(rng, style, size)
    kind = 0.0 if single else rng.random()
    sizes = tuple(_SIZES)

    def pick(seq):
        return seq[int(rng.integers(len(seq)))]

    def phrase(obj, position=True):
        return _phrase(obj, rng, size, position, shape_only)

    if kind < 0.5:  # one object
        objs = [_object(rng, size, pick(ALL_SHAPES), pick(_COLOUR_NAMES),
                        pick(sizes))]
        caption = phrase(objs[0])
    elif kind < 0.8:  # two objects: a relation or an occlusion
        shapes = rng.choice(ALL_SHAPES, 2)
        colours = rng.choice(_COLOUR_NAMES, 2, replace=False)
        a = _object(rng, size, shapes[0], colours[0], pick(sizes[:2]))
        if rng.random() < 0.3:
            b = _object(rng, size, shapes[1], colours[1], pick(sizes[:2]),
                        near=a)
            caption = (f'{phrase(b, False)} in front of '
                       f'{phrase(a, False)}')
        else:
            b = _object(rng, size, shapes[1], colours[1], pick(sizes[:2]))
            if max(abs(b['x'] - a['x']), abs(b['y'] - a['y'])) > 0.2 * size:
                caption = (f'{phrase(a, False)} {_relation(a, b)}'
                           f' {phrase(b, False)}')
            else:
                caption = (f'{phrase(a, False)} and '
                           f'{phrase(b, False)}')
        objs = [a, b]
    else:  # two or three of the same
        count = int(rng.integers(2, 4))
        shape, colour = pick(ALL_SHAPES), pick(_COLOUR_NAMES)
        objs = [_object(rng, size, shape, colour, 'small')
                for _ in range(count)]
        caption = f'{_NUMBERS[count]} {colour} {_PLURALS[shape]}'
    if rng.random() < 0.2:
        caption = 'a photo of ' + caption
    mask = np.zeros((size, size), np.uint8)
    frame = scene
    for obj in objs:
        mask[:] = 0
        draw_mask(mask, obj['shape'], obj['x'], obj['y'], obj['radius'],
                  obj['angle'])
        frame = blend(frame, mask, obj['rgb'])
    truth = dict(style=style, count=len(objs), shape=objs[0]['shape'],
                 colour=objs[0]['colour'])
    return noisy_uint8(frame, rng, rng.uniform(1, 4)), caption, truth


def render_stills(num: int, seed: int = 0, size: int = 72,
                  styles: Sequence[str] = TRAIN_STYLES,
                  single: bool = False,
                  shape_only: float = SHAPE_ONLY
                  ) -> Tuple[np.ndarray, List[str], List[dict]]:
    """Render ``num`` captioned stills, deterministically for ``seed``.

    Args:
        num (int): Number of stills.
        seed (int): Seed. Defaults to 0.
        size (int): Image side in pixels. Defaults to 72.
        styles (Sequence[str]): Background families. Defaults to
            :data:`.styles.TRAIN_STYLES`.
        single (bool): One object per still. Defaults to False.
        shape_only (float): Share of object phrases that name the shape
            alone. Defaults to :data:`SHAPE_ONLY`.

    Returns:
        tuple[np.ndarray, list[str], list[dict]]: uint8
        ``[num, size, size, 3]`` BGR images, their captions and truths.
    """
    images = np.empty((num, size, size, 3), np.uint8)
    captions, truths = [], []
    for i in range(num):
        images[i], caption, truth = render_still(
            np.random.default_rng([seed, 7, i]), size, styles, single,
            shape_only)
        captions.append(caption)
        truths.append(truth)
    return images, captions, truths
