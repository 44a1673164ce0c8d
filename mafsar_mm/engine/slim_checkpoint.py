"""Slim checkpoints (tuned parameters + training state) and checked loading.

MA-FSAR tunes a few million adapter/head parameters around a frozen CLIP
of 150M+. A slim checkpoint leaves out the frozen CLIP parameters; loading
rebuilds them from the config's pretrained source (the model is built from
the config before the checkpoint is loaded), checks with a SHA-256
fingerprint that they are the very weights the checkpoint was trained
with, and fills them in. Every load through the Runner (``load_from``,
``--resume``, ``tools/test.py``) or :func:`load_model_checkpoint` (the
inferencer) also checks that the checkpoint's keys and shapes match the
model, and stops with a list of the differences otherwise: MMEngine alone
would load a checkpoint of another architecture with a mere warning.
"""
import hashlib
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from torch import nn

from mafsar_mm.models.text import CLIPTextEncoder
from .checkpoint_loading import (CheckpointError, from_weights_only_types,
                                 to_weights_only_types)

SLIM_MODES = (True, False, 'auto')
_HOOK_HINT = ('set default_hooks.slim_checkpoint.check_keys=False in the '
              'config')
_MAX_LISTED = 10


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's weights do not fit the model."""


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if is_model_wrapper(model) else model


def _is_pretrained_clip(module: nn.Module) -> bool:
    """open_clip modules (visual tower, text transformer, whole CLIP) and
    our text encoder, which holds the text parts of a CLIP."""
    return (type(module).__module__.startswith('open_clip.')
            or isinstance(module, CLIPTextEncoder))


def pretrained_clip_prefixes(model: nn.Module) -> List[str]:
    """Names of the outermost pretrained-CLIP submodules of ``model``.

    Args:
        model (nn.Module): The recognizer (wrapped or not).

    Returns:
        list[str]: E.g. ``['backbone.visual', 'text_encoder']``.
    """
    prefixes: List[str] = []
    for name, module in _unwrap(model).named_modules():
        if name and _is_pretrained_clip(module) and not any(
                name.startswith(p + '.') for p in prefixes):
            prefixes.append(name)
    return prefixes


def frozen_pretrained_keys(model: nn.Module) -> List[str]:
    """State-dict keys of the frozen (``requires_grad=False``) parameters
    inside pretrained CLIP modules: what a slim checkpoint leaves out.

    Tunable parameters, buffers and frozen parameters outside CLIP
    modules are always kept.

    Args:
        model (nn.Module): The recognizer (wrapped or not).

    Returns:
        list[str]: The keys, in ``state_dict`` order.
    """
    prefixes = pretrained_clip_prefixes(model)
    return [
        name for name, param in _unwrap(model).named_parameters(
            remove_duplicate=False) if not param.requires_grad and any(
                name.startswith(p + '.') for p in prefixes)
    ]


def weights_fingerprint(state_dict: Dict[str, torch.Tensor],
                        keys: Sequence[str]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``keys``.

    Args:
        state_dict (dict[str, Tensor]): Weights.
        keys (Sequence[str]): The keys to hash (order does not matter).

    Returns:
        str: Hex digest.
    """
    digest = hashlib.sha256()
    for key in sorted(keys):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f'{key}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def make_slim(checkpoint: dict, model: nn.Module) -> dict:
    """Drop the frozen pretrained CLIP weights from ``checkpoint`` in place.

    Records in ``checkpoint['meta']``: ``slim=True`` and ``slim_info``
    with the dropped keys, their module prefixes, their parameter count
    and their :func:`weights_fingerprint`.

    Args:
        checkpoint (dict): A Runner checkpoint (``state_dict``, ``meta``).
        model (nn.Module): The model it was taken from.

    Returns:
        dict: ``slim_info``.
    """
    state_dict = checkpoint['state_dict']
    keys = [k for k in frozen_pretrained_keys(model) if k in state_dict]
    info = dict(
        dropped_keys=keys,
        prefixes=pretrained_clip_prefixes(model),
        num_params=int(sum(state_dict[k].numel() for k in keys)),
        sha256=weights_fingerprint(state_dict, keys))
    for key in keys:
        del state_dict[key]
    meta = checkpoint.setdefault('meta', {})
    meta['slim'] = True
    meta['slim_info'] = info
    return info


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


def load_model_checkpoint(model: nn.Module,
                          filename: str,
                          map_location: Union[str, torch.device] = 'cpu',
                          check_keys: bool = True) -> dict:
    """Load a (slim or full) checkpoint into a model outside a Runner.

    Uses MMEngine's loaders (local files: ``weights_only=True``, see
    :func:`load_local_checkpoint`), :func:`prepare_state_dict` and
    MMEngine's ``module.``-stripping load.

    Args:
        model (nn.Module): Model built from the training config.
        filename (str): Checkpoint file or URL.
        map_location (str | torch.device): As for ``torch.load``.
            Defaults to 'cpu'.
        check_keys (bool): Raise :class:`CheckpointMismatchError` when the
            checkpoint does not fit. Defaults to True.

    Returns:
        dict: The checkpoint (meta and message hub restored).
    """
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'No state dict found in {filename}')
    restore_plain_types(checkpoint)
    prepare_state_dict(
        checkpoint,
        model,
        check_keys=check_keys,
        hint='pass check_keys=False',
        source=filename)
    _load_checkpoint_to_model(_unwrap(model), checkpoint, strict=False)
    return checkpoint


def restore_plain_types(checkpoint: dict) -> None:
    """Undo :func:`to_weights_only_types` on ``meta``/``message_hub``."""
    for key in ('meta', 'message_hub'):
        if isinstance(checkpoint.get(key), dict):
            checkpoint[key] = from_weights_only_types(checkpoint[key])


def _clip_sources(cfg) -> List[Tuple[str, Optional[str]]]:
    """``(path, pretrained)`` of every ``clip=dict(...)`` in a model
    config."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'clip' and isinstance(value, dict):
                    found.append((f'{path}{key}', value.get('pretrained')))
                else:
                    walk(value, f'{path}{key}.')
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f'{path}{i}.')

    walk(cfg, 'model.')
    return found


@HOOKS.register_module()
class SlimCheckpointHook(Hook):
    """Slim, ``weights_only``-loadable checkpoints and checked loading.

    Saving (``before_save_checkpoint``, rank 0):

    - the message hub and meta are stored in plain types, so the file
      loads with ``torch.load(weights_only=True)``;
    - if slim, the frozen pretrained CLIP parameters are left out of the
      ``state_dict`` (:func:`make_slim`); tunable parameters, buffers,
      optimizer, schedulers, message hub and meta stay, so ``--resume``
      continues exactly.

    Loading (``after_load_checkpoint``: ``load_from``, resume, test): the
    plain types are restored and :func:`prepare_state_dict` fills in the
    frozen weights of a slim checkpoint (checked by fingerprint) and stops
    with a clear list of missing/unexpected/mis-shaped keys when the
    checkpoint does not fit the model.

    Args:
        slim (bool | str): True, False, or ``'auto'``: slim when the model
            config builds every CLIP from a pretrained source
            (``clip=dict(..., pretrained=<tag or file>)``), so the frozen
            weights can be rebuilt; randomly initialised CLIPs
            (``pretrained=None``, e.g. the tiny quickstart model) are saved
            in full. Defaults to 'auto'.
        check_keys (bool): Raise when a loaded checkpoint does not fit
            the model (False: warn and load the matching part, MMEngine's
            behaviour). Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(self,
                 slim: Union[bool, str] = 'auto',
                 check_keys: bool = True) -> None:
        if slim not in SLIM_MODES or not isinstance(slim, (bool, str)):
            raise ValueError(f'slim must be one of {SLIM_MODES}, got '
                             f'{slim!r}')
        self.slim = slim
        self.check_keys = check_keys
        self._auto: Optional[bool] = None
        # param groups to restore after a resume without optimizer state
        self._resume_groups: Optional[List[dict]] = None

    def _use_slim(self, runner) -> bool:
        if self.slim != 'auto':
            return self.slim
        if self._auto is None:
            model_cfg = runner.cfg.get('model', None)
            sources = _clip_sources(model_cfg) if isinstance(model_cfg,
                                                             dict) else []
            self._auto = bool(sources) and all(
                src is not None for _, src in sources) and bool(
                    frozen_pretrained_keys(runner.model))
            print_log(
                'SlimCheckpointHook: ' +
                ('slim checkpoints (frozen CLIP left out, rebuilt from '
                 'its pretrained source on loading)' if self._auto else
                 'full checkpoints (no frozen CLIP with a pretrained '
                 'source)'),
                logger='current')
        return self._auto

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Make the checkpoint ``weights_only``-loadable; slim it.

        Without optimizer state (``save_optimizer=False``) the optimizer's
        hyper-parameters (learning rate, weight decay, ...) are kept in
        ``meta['param_groups']``: MMEngine's schedulers update them
        relative to their current value, so a resume needs them.
        """
        groups = getattr(getattr(runner, 'optim_wrapper', None),
                         'param_groups', None)
        if 'optimizer' not in checkpoint and isinstance(groups, list):
            checkpoint.setdefault('meta', {})['param_groups'] = [{
                k: v
                for k, v in group.items() if k != 'params'
            } for group in groups]
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_weights_only_types(checkpoint[key])
        if self._use_slim(runner):
            make_slim(checkpoint, runner.model)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore plain types; check the keys, fill in slim weights."""
        restore_plain_types(checkpoint)
        prepare_state_dict(checkpoint, runner.model, self.check_keys)
        self._resume_groups = None
        if getattr(runner, '_resume', False) and \
                'optimizer' not in checkpoint:
            self._resume_groups = (checkpoint.get('meta')
                                   or {}).get('param_groups')
            if not self._resume_groups:
                print_log(
                    'The checkpoint has neither optimizer state nor the '
                    "optimizer's param groups (it was not written by "
                    'SlimCheckpointHook): the learning rate restarts from '
                    'the value the schedulers set at the start, not the '
                    "one at the checkpoint's iteration.",
                    logger='current',
                    level=30)
            print_log(
                'Resuming from a checkpoint without optimizer state '
                '(saved with default_hooks.checkpoint.save_optimizer='
                'False): the iteration, LR schedule and episode stream '
                'continue, the optimizer moments start from zero. Keep '
                'save_optimizer=True for a bit-exact resume.',
                logger='current',
                level=30)

    def before_train(self, runner) -> None:
        """After a resume without optimizer state, put back the saved
        learning rate and other hyper-parameters of each param group."""
        saved = self._resume_groups
        if not saved:
            return
        groups = runner.optim_wrapper.param_groups
        if len(saved) != len(groups):
            raise CheckpointMismatchError(
                f'The checkpoint has {len(saved)} optimizer param groups, '
                f'the optimizer {len(groups)}: use the training config of '
                'the checkpoint to resume.')
        for group, values in zip(groups, saved):
            group.update({k: v for k, v in values.items() if k in group})
        self._resume_groups = None
