"""Class tables of the two synthetic flavours.

* ``'spatial'`` (the original dataset, like Kinetics/UCF101/HMDB51):
  every class is a (shape, colour, motion) triple named after both,
  e.g. ``'moving a red circle from left to right'``; appearance and motion
  both tell classes apart, except within temporal pairs.
* ``'temporal'`` (SSv2-like): only the motion names the class, e.g.
  ``'moving something from left to right'``; shape, colour, size,
  background, speed and position are drawn independently per video.

In both, most classes come in *temporal pairs*: the second class of a pair
is the first played backwards. Splits are disjoint by class: spatial train
24, val 6, test 10 classes (10 / 2 / 4 pairs); temporal train 24, val 10,
test 10 (10 / 4 / 4 pairs), its val split built like its test split so
that it can rank methods (a 6-class val split with 2 pairs puts both
members of a pair in almost every 5-way episode).
"""
from typing import Dict, List, Optional, Tuple

import numpy as np

SPLITS = ('train', 'val', 'test')
FLAVOURS = ('spatial', 'temporal')

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

# Spatial flavour: (split, motion, shape, colour). Paired motions give two
# classes each.
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

# Temporal flavour: every motion is its own class (pair), with SSv2-style
# names in which the object is "something".
TEMPORAL_PAIRED = {
    'horizontal': ('moving something from left to right',
                   'moving something from right to left'),
    'vertical': ('moving something down', 'moving something up'),
    'diagonal': ('moving something from top left to bottom right',
                 'moving something from bottom right to top left'),
    'antidiagonal': ('moving something from bottom left to top right',
                     'moving something from top right to bottom left'),
    'fall': ('dropping something', 'throwing something upwards'),
    'scale': ('making something bigger', 'making something smaller'),
    'stretch': ('stretching something', 'squeezing something'),
    'rotate': ('turning something clockwise',
               'turning something counter-clockwise'),
    'fade': ('something appearing', 'something disappearing'),
    'brighten': ('something getting brighter', 'something getting darker'),
    'orbit': ('moving something in a loop clockwise',
              'moving something in a loop counter-clockwise'),
    'spiral': ('something spiralling inwards',
               'something spiralling outwards'),
    'approach': ('moving something towards something else',
                 'moving something away from something else'),
    'together': ('moving two things closer together',
                 'moving two things apart'),
    'cover': ('covering something', 'uncovering something'),
    'pan': ('turning the camera right while filming something',
            'turning the camera left while filming something'),
    'arc': ('throwing something in an arc from left to right',
            'throwing something in an arc from right to left'),
    'roll': ('rolling something to the right',
             'rolling something to the left'),
}

TEMPORAL_SINGLE = {
    'bounce': 'bouncing something',
    'shake': 'shaking something',
    'nod': 'moving something up and down',
    'blink': 'something blinking',
    'pulse': 'something pulsing',
    'wobble': 'wobbling something',
    'jitter': 'something jittering',
    'swing': 'swinging something',
}

# Temporal flavour: (split, motion); 10 / 4 / 4 pairs and 4 / 2 / 2
# singles. Val is built like test (a path, a turn or spiral, two objects,
# a change of appearance; two singles) so that val accuracy ranks methods
# as test would.
TEMPORAL_TABLE = (
    ('train', 'horizontal'), ('train', 'diagonal'), ('train', 'scale'),
    ('train', 'fade'), ('train', 'orbit'), ('train', 'fall'),
    ('train', 'stretch'), ('train', 'arc'), ('train', 'roll'),
    ('train', 'pan'),
    ('train', 'bounce'), ('train', 'shake'), ('train', 'blink'),
    ('train', 'wobble'),
    ('val', 'antidiagonal'), ('val', 'spiral'), ('val', 'approach'),
    ('val', 'cover'), ('val', 'jitter'), ('val', 'pulse'),
    ('test', 'vertical'), ('test', 'rotate'), ('test', 'together'),
    ('test', 'brighten'), ('test', 'nod'), ('test', 'swing'),
)


#: Class splits of the temporal flavour for conclusions that do not rest
#: on one split: split 0 is :data:`TEMPORAL_TABLE`; splits 1 and 2 rotate
#: which motions are val and test, each built like split 0's (a path, a
#: turn or spiral, a two-object motion, a change of appearance or an
#: occlusion; two single motions), so that every turn and every two-object
#: motion is tested in one split. Both classes of a pair are always in one
#: split. Motions not named are train.
TEMPORAL_CLASS_SPLITS = (
    None,  # TEMPORAL_TABLE
    dict(val=('fall', 'rotate', 'together', 'scale', 'shake', 'pulse'),
         test=('horizontal', 'orbit', 'cover', 'fade', 'bounce',
               'wobble')),
    dict(val=('arc', 'orbit', 'cover', 'brighten', 'nod', 'bounce'),
         test=('diagonal', 'spiral', 'approach', 'stretch', 'blink',
               'jitter')),
)


def temporal_class_split(index: int) -> Dict[str, str]:
    """Motion -> split (``'train'``, ``'val'`` or ``'test'``) of one of
    :data:`TEMPORAL_CLASS_SPLITS`.

    Args:
        index (int): Split index.

    Returns:
        dict[str, str]: The split of every temporal motion.

    Raises:
        ValueError: If ``index`` is out of range.
    """
    if not 0 <= index < len(TEMPORAL_CLASS_SPLITS):
        raise ValueError(f'class split {index} does not exist; choose one '
                         f'of 0..{len(TEMPORAL_CLASS_SPLITS) - 1}')
    table = dict((motion, split) for split, motion in TEMPORAL_TABLE)
    rotation = TEMPORAL_CLASS_SPLITS[index]
    if rotation is None:
        return table
    return {motion: next((s for s, ms in rotation.items() if motion in ms),
                         'train')
            for motion in table}


def object_phrase(shape: str, colour: str) -> str:
    """E.g. ``'a red circle'`` or ``'an orange star'``."""
    article = 'an' if colour[0] in 'aeiou' else 'a'
    return f'{article} {colour} {shape}'


def slug(name: str) -> str:
    """A file-name-safe version of a class name."""
    return ''.join(c if c.isalnum() else '_' for c in name).strip('_')


def check_flavour(flavour: str) -> None:
    """Raise a ValueError listing the flavours if ``flavour`` is unknown."""
    if flavour not in FLAVOURS:
        raise ValueError(f'unknown synthetic flavour {flavour!r}; '
                         f'supported: {FLAVOURS}')


def _rows(flavour: str, split: str):
    """(motion, names, base spec) of the table rows of one split."""
    if flavour == 'spatial':
        for row_split, motion, shape, colour in CLASS_TABLE:
            if row_split != split:
                continue
            obj = object_phrase(shape, colour)
            names = (PAIRED_MOTIONS[motion] if motion in PAIRED_MOTIONS
                     else (SINGLE_MOTIONS[motion], ))
            yield motion, [n.format(obj=obj) for n in names], dict(
                shape=shape, colour=colour)
    else:
        for row_split, motion in TEMPORAL_TABLE:
            if row_split != split:
                continue
            names = (TEMPORAL_PAIRED[motion] if motion in TEMPORAL_PAIRED
                     else (TEMPORAL_SINGLE[motion], ))
            yield motion, list(names), dict(shape=None, colour=None)


def get_class_specs(flavour: str = 'spatial') -> List[dict]:
    """Build the list of classes, in label order.

    Classes are ordered by split (train, val, test); within a split the two
    classes of a temporal pair are adjacent, forward first.

    Args:
        flavour (str): ``'spatial'`` or ``'temporal'``. Defaults to
            ``'spatial'``.

    Returns:
        list[dict]: One dict per class with keys ``label``, ``name``,
        ``split``, ``flavour``, ``shape``, ``colour`` (None in the temporal
        flavour: drawn per video), ``motion``, ``reverse`` (whether the
        frames of the motion are played backwards) and ``pair`` (the label
        of the other member of its temporal pair, or None).
    """
    check_flavour(flavour)
    specs = []
    for split in SPLITS:
        for motion, names, look in _rows(flavour, split):
            base = dict(look, split=split, motion=motion, flavour=flavour)
            label = len(specs)
            if len(names) == 2:
                specs.append(dict(base, label=label, name=names[0],
                                  reverse=False, pair=label + 1))
                specs.append(dict(base, label=label + 1, name=names[1],
                                  reverse=True, pair=label))
            else:
                specs.append(dict(base, label=label, name=names[0],
                                  reverse=False, pair=None))
    return specs


def get_temporal_pairs(specs: Optional[List[dict]] = None
                       ) -> List[Tuple[int, int]]:
    """List the temporal pairs as (forward label, reversed label).

    Args:
        specs (list[dict], optional): Output of :func:`get_class_specs`.
            Defaults to None (the spatial flavour's).

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
