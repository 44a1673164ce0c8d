"""The hook that writes slim, ``weights_only``-loadable checkpoints and
checks every checkpoint a Runner loads."""
from typing import List, Optional, Tuple, Union

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ..checkpoint import (check_checkpoint_file, restore_plain_types,
                          to_weights_only_types)
from ..checkpoint_slimming import (frozen_pretrained_keys, load_into_model,
                                   make_slim)

SLIM_MODES = (True, False, 'auto')


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

    Loading (``load_from``, resume, test): ``before_run`` (which MMEngine
    calls before ``Runner.load_or_resume``) checks the file
    (:func:`check_checkpoint_file`: one line for a missing, empty,
    truncated or unsafe file); ``after_load_checkpoint`` restores the
    plain types and :func:`load_into_model` fills in the frozen weights
    of a slim checkpoint (checked by fingerprint) and loads with torch's
    ``strict=True``, whose error lists the missing, unexpected and
    mis-shaped keys.

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

    def before_run(self, runner) -> None:
        """Check the checkpoint the runner is about to load."""
        if getattr(runner, '_load_from', None):
            check_checkpoint_file(runner._load_from)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Make the checkpoint ``weights_only``-loadable; slim it."""
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_weights_only_types(checkpoint[key])
        if self._use_slim(runner):
            make_slim(checkpoint, runner.model)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore plain types; check the keys, fill in slim weights."""
        restore_plain_types(checkpoint)
        load_into_model(checkpoint, runner.model, self.check_keys)
