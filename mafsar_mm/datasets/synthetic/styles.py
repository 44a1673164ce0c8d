"""Background style families of the synthetic stills and videos.

The tiny CLIP is pretrained on stills of many families and measured on
stills of a family it never saw (:data:`HELD_OUT_STYLES`); the videos use
``'blobs'`` (:func:`.drawing.background`) unless a style is asked for
(``make_synthetic.py --style``), e.g. the held-out family, so that a
frozen encoder meets a new look as real CLIP meets a new dataset.
"""
import cv2
import numpy as np

from .drawing import background

#: every background family, in a fixed order
STYLE_FAMILIES = ('flat', 'gradient', 'blobs', 'texture', 'noise',
                  'stripes', 'clutter', 'checkers')
#: families never shown in pretraining (held-out metrics, unseen-style
#: videos)
HELD_OUT_STYLES = ('checkers', )
#: families of the pretraining stills
TRAIN_STYLES = tuple(s for s in STYLE_FAMILIES if s not in HELD_OUT_STYLES)


def check_style(style: str) -> None:
    """Raise a ValueError listing the families if ``style`` is unknown."""
    if style not in STYLE_FAMILIES:
        raise ValueError(f'unknown style {style!r}; supported: '
                         f'{STYLE_FAMILIES}')


def _muted(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(40, 115) + rng.uniform(-20, 20, size=3)


def style_background(rng: np.random.Generator, style: str, size: int,
                     width: int = None) -> np.ndarray:
    """A muted background of one family.

    Args:
        rng (np.random.Generator): Random generator.
        style (str): One of :data:`STYLE_FAMILIES`.
        size (int): Height in pixels.
        width (int, optional): Width in pixels. Defaults to None (``size``).

    Returns:
        np.ndarray: float32 ``[size, width, 3]`` BGR image.
    """
    check_style(style)
    width = size if width is None else width
    if style == 'blobs':  # the videos' look
        return background(rng, size, width)
    yy, xx = np.mgrid[0:size, 0:width].astype(np.float32)
    if style == 'flat':
        img = np.broadcast_to(_muted(rng), (size, width, 3))
    elif style == 'gradient':
        ang = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(ang) * xx + np.sin(ang) * yy) / max(size, width)
        ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
        a, b = _muted(rng), _muted(rng)
        img = a + (b - a) * ramp[..., None]
    elif style == 'texture':  # random texture at one of several scales
        cell = int(rng.choice([2, 4, 8, 16]))
        small = rng.uniform(-35, 35, size=(max(2, size // cell),
                                           max(2, width // cell), 3))
        img = _muted(rng) + cv2.resize(small.astype(np.float32),
                                       (width, size),
                                       interpolation=cv2.INTER_LINEAR)
    elif style == 'noise':
        img = _muted(rng) + rng.normal(0, rng.uniform(10, 25),
                                       size=(size, width, 3))
    elif style in ('stripes', 'checkers'):
        period = rng.uniform(5, 16)
        ang = rng.uniform(0, np.pi)
        u = np.cos(ang) * xx + np.sin(ang) * yy
        on = np.floor(u / period) % 2
        if style == 'checkers':
            v = -np.sin(ang) * xx + np.cos(ang) * yy
            on = (on + np.floor(v / period)) % 2
        a, b = _muted(rng), _muted(rng)
        img = a + (b - a) * on[..., None]
    else:  # clutter: blurred random blobs and bars
        img = np.ascontiguousarray(np.broadcast_to(
            _muted(rng), (size, width, 3)), np.float32)
        for _ in range(int(rng.integers(6, 14))):
            c = tuple(float(v) for v in _muted(rng) + 20)
            x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, size))
            if rng.random() < 0.5:
                cv2.circle(img, (x0, y0), int(rng.integers(3, 12)), c, -1)
            else:
                end = (int(rng.integers(0, width)),
                       int(rng.integers(0, size)))
                cv2.line(img, (x0, y0), end, c, int(rng.integers(1, 4)))
        img = cv2.GaussianBlur(img, (0, 0),
                               rng.uniform(1.5, 3.5))
    return np.asarray(img, np.float32).copy()
