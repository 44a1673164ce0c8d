"""A ``CheckpointHook`` that removes old checkpoints only after the new one
is in place."""
from contextlib import contextmanager
from typing import Iterator, List

from mmaction.registry import HOOKS
from mmengine.hooks import CheckpointHook

from ..atomic_file_backend import ATOMIC_BACKEND


class _DeferredRemovals:
    """A file backend whose ``remove``/``rmtree`` calls are recorded
    instead of done; everything else goes to the wrapped backend."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.paths: List[str] = []

    def remove(self, filepath) -> None:
        self.paths.append(str(filepath))

    def rmtree(self, dir_path) -> None:
        self.paths.append(str(dir_path))

    def __getattr__(self, name: str):
        return getattr(self.backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` with a safe order of writes and
    removals: a kill or an error during a save leaves the previous
    checkpoints intact.

    MMEngine 0.10.7 removes the oldest checkpoint (``max_keep_ckpts``)
    and the previous best one (``save_best``) *before* it writes the new
    one (``CheckpointHook._save_checkpoint_with_step`` and
    ``_save_best_checkpoint`` in ``mmengine/hooks/checkpoint_hook.py``):
    with ``max_keep_ckpts=1`` a run killed during the save has no
    checkpoint left. This hook runs MMEngine's code unchanged but with
    its file backend wrapped so that those removals are only recorded;
    they are done once the save is complete (the new file written and
    renamed into place, ``last_checkpoint`` updated), and never on a file
    the hook still refers to (the newest, best and kept checkpoints).
    An error or a kill before that point leaves every old file.

    Takes MMEngine's ``CheckpointHook`` arguments (its signature is
    unchanged); with neither ``backend_args`` nor ``file_client_args``
    given, checkpoints are written with ``backend_args=dict(backend=
    'atomic_local')`` (:class:`mafsar_mm.engine.AtomicLocalBackend`,
    atomic writes).
    """

    def before_train(self, runner) -> None:
        """Default to the atomic backend, then as MMEngine."""
        if self.backend_args is None and self.file_client_args is None:
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)

    def _in_use(self) -> set:
        """Paths of the checkpoints the hook refers to now."""
        paths = {self.last_ckpt, getattr(self, 'best_ckpt_path', None)}
        paths.update(getattr(self, 'best_ckpt_path_dict', {}).values())
        backend = self.file_backend
        for step in getattr(self, 'keep_ckpt_ids', ()):
            paths.add(
                backend.join_path(self.out_dir,
                                  self.filename_tmpl.format(step)))
        return {str(p) for p in paths if p is not None}

    def _remove(self, paths: List[str]) -> None:
        in_use = self._in_use()
        for path in paths:
            if path in in_use:
                continue
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    @contextmanager
    def _removals_after_save(self) -> Iterator[None]:
        """Within the block, removals of the file backend are recorded;
        they are done when the (outermost) block ends without an
        error."""
        if isinstance(self.file_backend, _DeferredRemovals):
            yield  # nested: the outer block removes
            return
        deferred = _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
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
