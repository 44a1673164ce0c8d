"""Safer loading of local checkpoints for torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default, which rejects
MMEngine's full training checkpoints (they pickle the message hub).
Local files are first loaded with ``weights_only=True``; only when that
fails, and unless ``MAFSAR_WEIGHTS_ONLY=1`` is set, they are loaded again
with full unpickling, with a warning. Full unpickling runs code from the
file: load only checkpoints you trust.
"""
import os
import pickle

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader


def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """Load a local checkpoint, ``weights_only`` first.

    Args:
        filename (str): Checkpoint path.
        map_location: As for ``torch.load``.

    Returns:
        dict: The loaded checkpoint.
    """
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'Checkpoint not found: {filename}')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if os.environ.get('MAFSAR_WEIGHTS_ONLY', '0') == '1':
            raise RuntimeError(
                f'{filename} cannot be loaded with weights_only=True '
                f'({e}) and MAFSAR_WEIGHTS_ONLY=1 forbids full '
                'unpickling.') from e
        print_log(
            f'{filename} needs full unpickling (weights_only=False); '
            'doing so. Only load checkpoints you trust; set '
            'MAFSAR_WEIGHTS_ONLY=1 to refuse.',
            logger='current',
            level=30)
        return torch.load(
            filename, map_location=map_location, weights_only=False)


def register_checkpoint_loader() -> None:
    """Make MMEngine use :func:`load_local_checkpoint` for local files."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
