"""``tools/train.py --tensorboard``: MMEngine's ``TensorboardVisBackend``
next to the config's backends.

The list of visualizer backends cannot be extended with ``--cfg-options``
(MMEngine's ``DictAction`` parses list items as plain values, not dicts),
so the tools offer a flag. TensorBoard is optional: ``pip install
tensorboard`` (or ``pip install -e '.[tensorboard]'``).
"""
from mmengine.config import Config

from mafsar_mm.utils.errors import InputError

#: MMEngine's TensorBoard backend (mmengine/visualization/vis_backend.py).
TENSORBOARD_BACKEND = 'TensorboardVisBackend'


def add_tensorboard(cfg: Config) -> None:
    """Add ``TensorboardVisBackend`` to ``cfg.visualizer.vis_backends``
    (once); its event files go to the run's ``vis_data`` folder, next to
    ``scalars.json``.

    Args:
        cfg (Config): The config, changed in place.

    Raises:
        InputError: If the ``tensorboard`` package is not installed.
    """
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise InputError("--tensorboard needs the tensorboard package: pip "
                         "install tensorboard (or pip install -e "
                         "'.[tensorboard]').") from None
    visualizer = cfg.get('visualizer') or dict(type='Visualizer')
    backends = list(visualizer.get('vis_backends') or [])
    if not any(b.get('type') == TENSORBOARD_BACKEND for b in backends):
        backends.append(dict(type=TENSORBOARD_BACKEND))
    visualizer['vis_backends'] = backends
    cfg.visualizer = visualizer
