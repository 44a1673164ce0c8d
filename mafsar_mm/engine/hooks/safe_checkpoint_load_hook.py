"""Turn on ``weights_only`` loading of local checkpoints for a Runner."""
import functools

from mmaction.registry import HOOKS
from mmengine.hooks import Hook

from ..checkpoint_loading import safe_local_loading


@HOOKS.register_module()
class SafeCheckpointLoadHook(Hook):
    """Load ``load_from``/``--resume`` checkpoints with
    :func:`mafsar_mm.engine.load_local_checkpoint` (``weights_only=True``
    unless the user allows full unpickling, clear errors for truncated
    files).

    MMEngine's Runner calls ``before_run`` and then loads the checkpoint
    (``Runner.load_or_resume`` -> ``Runner.load_checkpoint``). In
    ``before_run`` this hook wraps that runner's ``load_checkpoint`` so
    each call runs inside :func:`safe_local_loading`: MMEngine's loader
    for local files is swapped in for the duration of the call only (and
    put back even when loading fails), so nothing changes for other code
    in the process. Atomic writing is the other half, configured on the
    ``CheckpointHook`` (``backend_args=dict(backend='atomic_local')``);
    both are on in ``configs/_base_/default_runtime.py``.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        """Make this runner's checkpoint loading safe (once)."""
        load = runner.load_checkpoint
        if getattr(load, '_mafsar_safe', False):
            return

        @functools.wraps(load)
        def safe_load(*args, **kwargs):
            with safe_local_loading():
                return load(*args, **kwargs)

        safe_load._mafsar_safe = True
        runner.load_checkpoint = safe_load
