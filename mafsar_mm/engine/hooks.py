"""Checkpoint hooks: safe removal order, slim and checked checkpoints,
and the config check on ``--resume``."""
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
                         load_into_model, make_slim, to_weights_only_types)


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
    """MMEngine's ``CheckpointHook`` (same arguments), but a kill or an
    error during a save leaves the previous checkpoints intact.

    MMEngine 0.10.7 removes the oldest checkpoint (``max_keep_ckpts``) and
    the previous best one *before* writing the new one: with
    ``max_keep_ckpts=1`` a run killed during the save has none left. Here
    MMEngine's code runs with its file backend wrapped so that removals
    are recorded, and done once the save is complete, never on a file the
    hook still refers to. Without ``backend_args`` or ``file_client_args``
    checkpoints are written with the atomic backend.
    """

    def before_train(self, runner) -> None:
        """Default to the atomic backend, then as MMEngine."""
        if self.backend_args is None and self.file_client_args is None:
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)

    def _remove(self, paths: List[str]) -> None:
        """Remove ``paths`` but the newest, best and kept checkpoints."""
        backend = self.file_backend
        in_use = {self.last_ckpt, getattr(self, 'best_ckpt_path', None)}
        in_use.update(getattr(self, 'best_ckpt_path_dict', {}).values())
        in_use.update(
            backend.join_path(self.out_dir, self.filename_tmpl.format(step))
            for step in getattr(self, 'keep_ckpt_ids', ()))
        in_use = {str(p) for p in in_use if p is not None}
        for path in (p for p in paths if p not in in_use):
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)

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
    """Saving (rank 0): the message hub and meta in plain types, so the
    file loads with ``weights_only=True``; if slim, the frozen pretrained
    CLIP parameters left out (:func:`make_slim`; optimizer, schedulers and
    message hub stay, so ``--resume`` is exact). Loading: ``before_run``
    checks the file (:func:`check_checkpoint_file`),
    ``after_load_checkpoint`` restores, completes and strictly loads it
    (:func:`load_into_model`).

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
    """On a resume, warn once if the config differs from the one stored
    in the checkpoint (``meta['cfg']``, written by MMEngine's Runner),
    listing the keys of :data:`~mafsar_mm.utils.config_diff.
    COMPARED_SECTIONS` as ``key old -> new``. A warning, not an error: a
    longer schedule may be intended. ``load_from`` alone is not checked.
    """

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
            print_log(
                "The checkpoint's stored config cannot be read; the "
                'resumed config is not compared with it.',
                logger='current',
                level=30)
            return
        if found:
            print_log(
                "resuming with a config that differs from the checkpoint's: " +
                describe_differences(found),
                logger='current',
                level=30)
