"""Checkpoint hooks: removals after the save, slim and checked files,
the config check on ``--resume``."""
from contextlib import contextmanager
from typing import Iterator, List, Union

from mmaction.registry import HOOKS
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from mafsar_mm.models.clip.clip_config import find_clip_dicts
from mafsar_mm.utils.config_diff import (config_differences,
                                         describe_differences,
                                         parse_config_text)
from .atomic_file_backend import ATOMIC_BACKEND
from .checkpoint import (check_checkpoint_file, frozen_pretrained_keys,
                         load_into_model, make_slim, to_weights_only_types,
                         warn)


class _DeferredRemovals:
    """A file backend that records ``remove``/``rmtree`` calls instead of
    doing them; everything else goes to the wrapped backend."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.paths: List[str] = []

    def remove(self, filepath) -> None:
        self.paths.append(str(filepath))

    rmtree = remove

    def __getattr__(self, name: str):
        return getattr(self.backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` (same arguments), whose removals of
    the oldest (``max_keep_ckpts``) and previous best checkpoint are done
    after the new one is in place, not before (MMEngine 0.10.7): a kill
    during a save leaves the old files. Writes with the atomic backend
    unless ``backend_args`` or ``file_client_args`` say otherwise.
    """

    def before_train(self, runner) -> None:
        """Default to the atomic backend, then as MMEngine."""
        if self.backend_args is None and self.file_client_args is None:
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)

    def _remove(self, paths: List[str]) -> None:
        """Remove ``paths`` but the newest and best checkpoints (a save
        may have written a file of an outdated one's name anew)."""
        in_use = {self.last_ckpt, getattr(self, 'best_ckpt_path', None)}
        in_use.update(getattr(self, 'best_ckpt_path_dict', {}).values())
        for path in sorted(set(paths) - {str(p) for p in in_use if p}):
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    @contextmanager
    def _removals_after_save(self) -> Iterator[None]:
        """Removals within the block are done when the outermost block
        ends without an error."""
        if isinstance(self.file_backend, _DeferredRemovals):
            yield  # nested: the outer block removes
            return
        deferred = self.file_backend = _DeferredRemovals(self.file_backend)
        try:
            yield
        finally:
            self.file_backend = deferred.backend
        self._remove(deferred.paths)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save as MMEngine does, then remove the outdated checkpoint."""
        with self._removals_after_save():
            super()._save_checkpoint_with_step(runner, step, meta)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """Save as MMEngine does, then remove the previous best one."""
        with self._removals_after_save():
            super()._save_best_checkpoint(runner, metrics)


@HOOKS.register_module()
class SlimCheckpointHook(Hook):
    """Saves ``weights_only``-loadable checkpoints (plain types), slim
    ones without the frozen pretrained CLIP (:func:`make_slim`); checks
    the file before loading (:func:`check_checkpoint_file`) and completes
    and strictly loads it after (:func:`load_into_model`).

    Args:
        slim (bool | str): True, False, or ``'auto'``: slim when every
            ``clip=dict(...)`` of the model config has a pretrained tag or
            file to rebuild the frozen weights from (a random CLIP,
            ``pretrained=None``, is saved in full). Defaults to 'auto'.
        check_keys (bool): Raise when a loaded checkpoint does not fit
            the model (False: warn and load the matching part, MMEngine's
            behaviour). Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(self,
                 slim: Union[bool, str] = 'auto',
                 check_keys: bool = True) -> None:
        if slim not in (True, False, 'auto') or not isinstance(
                slim, (bool, str)):
            raise ValueError(
                f"slim must be one of (True, False, 'auto'), got {slim!r}")
        self.slim = slim
        self.check_keys = check_keys

    def before_run(self, runner) -> None:
        """Check the checkpoint the runner is about to load."""
        if getattr(runner, '_load_from', None):
            check_checkpoint_file(runner._load_from)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Make the checkpoint ``weights_only``-loadable; slim it."""
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_weights_only_types(checkpoint[key])
        if self.slim == 'auto':
            model = runner.cfg.get('model', None)
            clips = find_clip_dicts(model) if isinstance(model, dict) else []
            self.slim = bool(clips) and all(
                c.get('pretrained') is not None
                for _, c in clips) and bool(frozen_pretrained_keys(
                    runner.model))
            print_log(
                'SlimCheckpointHook: ' +
                ('slim checkpoints (frozen CLIP left out, rebuilt from its '
                 'pretrained source on loading)' if self.slim else
                 'full checkpoints (no frozen CLIP with a pretrained '
                 'source)'),
                logger='current')
        if self.slim:
            make_slim(checkpoint, runner.model)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore plain types, fill in slim weights, check the keys."""
        load_into_model(checkpoint, runner.model, self.check_keys)


@HOOKS.register_module()
class ResumeConfigCheckHook(Hook):
    """On a resume, warn once (``key old -> new``) if the compared parts
    of the config (:mod:`mafsar_mm.utils.config_diff`) differ from the
    one the Runner stored in the checkpoint (``meta['cfg']``)."""

    priority = 'NORMAL'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Compare the checkpoint's config with the runner's."""
        text = (checkpoint.get('meta') or {}).get('cfg')
        if not getattr(runner, '_resume', False) or not isinstance(text, str):
            return  # not a resume, or no Runner's checkpoint
        try:
            found = config_differences(
                parse_config_text(text), runner.cfg.to_dict())
        except SyntaxError:
            warn("The checkpoint's stored config cannot be read; the "
                 'resumed config is not compared with it.')
            return
        if found:
            warn(
                "resuming with a config that differs from the checkpoint's: " +
                describe_differences(found))
