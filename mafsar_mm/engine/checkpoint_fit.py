"""Check a checkpoint against a model before loading it.

MMEngine alone loads a checkpoint of another architecture with a mere
warning. :func:`prepare_state_dict` lists the missing keys, unexpected
keys and shape mismatches and stops (or warns), and completes a slim
checkpoint (:mod:`mafsar_mm.engine.checkpoint_slimming`) from the model.
"""
import re
from typing import List, Optional

from mmengine.logging import print_log
from torch import nn

from .checkpoint_loading import CheckpointError
from .checkpoint_slimming import _unwrap, weights_fingerprint

_HOOK_HINT = ('set default_hooks.slim_checkpoint.check_keys=False in the '
              'config')
_MAX_LISTED = 10


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's weights do not fit the model."""


def _listing(title: str, items: List[str]) -> str:
    shown = ', '.join(items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    tail = f' ... and {more} more' if more > 0 else ''
    return f'  {title} ({len(items)}): {shown}{tail}'


def prepare_state_dict(checkpoint: dict,
                       model: nn.Module,
                       check_keys: bool = True,
                       hint: str = _HOOK_HINT,
                       source: Optional[str] = None) -> List[str]:
    """Check a checkpoint against ``model`` and fill in slim keys.

    For a slim checkpoint the dropped frozen CLIP weights are taken from
    ``model`` (built from its pretrained source) after checking their
    fingerprint. Then missing keys, unexpected keys and shape mismatches
    are collected (keys compared after MMEngine's ``module.`` stripping).

    Args:
        checkpoint (dict): A loaded checkpoint; its ``state_dict`` (or the
            dict itself, for a bare state dict) is completed in place.
        model (nn.Module): The model to load into (wrapped or not).
        check_keys (bool): Raise on any difference; False only warns (and
            MMEngine loads the matching part). Defaults to True.
        hint (str): How to turn the check off, for the message. Defaults
            to the hook's config option.
        source (str, optional): File name for the messages. Defaults to
            None.

    Returns:
        list[str]: The keys filled in from ``model``.

    Raises:
        CheckpointMismatchError: If ``check_keys`` and the checkpoint does
            not fit, or a slim checkpoint's frozen weights differ from the
            model's.
    """
    model = _unwrap(model)
    state_dict = checkpoint.get('state_dict', checkpoint)
    meta = {}
    if 'state_dict' in checkpoint:
        meta = checkpoint.get('meta') or {}
    names = {re.sub(r'^module\.', '', k): k for k in state_dict}
    model_sd = model.state_dict()
    what = f'Checkpoint {source}' if source else 'The checkpoint'
    filled, absent = [], []
    if meta.get('slim'):
        info = meta.get('slim_info') or {}
        dropped = list(info.get('dropped_keys', []))
        absent = [k for k in dropped if k not in model_sd]
        present = [k for k in dropped if k in model_sd and k not in names]
        if not absent:
            if weights_fingerprint(model_sd, dropped) != info.get('sha256'):
                message = (
                    f'{what} is slim: it leaves out the frozen CLIP '
                    'weights, but the CLIP built from this config is not '
                    'the one it was trained with (fingerprint mismatch '
                    f'over {len(dropped)} tensors under '
                    f'{info.get("prefixes")}). Use the same '
                    'clip=dict(model_name=..., pretrained=...) as in '
                    'training; a randomly initialised CLIP '
                    '(pretrained=None) is only rebuilt identically with '
                    'the same seed.')
                if check_keys:
                    raise CheckpointMismatchError(message)
                print_log(message, logger='current', level=30)
                present = []
            for key in present:
                state_dict[key] = model_sd[key]
                names[key] = key
            filled = present
    missing = [k for k in model_sd if k not in names]
    unexpected = [names[k] for k in names if k not in model_sd] + absent
    mismatched = []
    for key, name in names.items():
        ours = model_sd.get(key)
        theirs = state_dict[name]
        if ours is not None and hasattr(theirs, 'shape') and \
                tuple(theirs.shape) != tuple(ours.shape):
            mismatched.append(f'{key}: checkpoint {tuple(theirs.shape)} '
                              f'vs model {tuple(ours.shape)}')
    if missing or unexpected or mismatched:
        lines = [
            f'{what} does not fit the model (a checkpoint of another '
            'architecture or config?):'
        ]
        found = {
            'missing keys': missing,
            'unexpected keys': unexpected,
            'shape mismatches': mismatched
        }
        for title, items in found.items():
            if items:
                lines.append(_listing(title, items))
        lines.append('Use the config the checkpoint was trained with; to '
                     f'load only the matching weights anyway, {hint}.')
        if check_keys:
            raise CheckpointMismatchError('\n'.join(lines))
        print_log('\n'.join(lines), logger='current', level=30)
    return filled
