"""Warn when ``--resume`` continues a checkpoint with a different training
config."""
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mafsar_mm.utils.config_diff import (config_differences,
                                         describe_differences,
                                         parse_config_text)


@HOOKS.register_module()
class ResumeConfigCheckHook(Hook):
    """On ``--resume``, warn once if the training config differs from the
    one stored in the checkpoint (``meta['cfg']``, which MMEngine's
    ``Runner.save_checkpoint`` writes), listing the differing keys of
    :data:`mafsar_mm.utils.config_diff.COMPARED_SECTIONS` as
    ``key old -> new``.

    Resuming with another model or other episode settings trains a
    different run on top of the checkpoint's weights and optimizer state;
    that may be intended (a longer schedule), so it is a warning, not an
    error. ``load_from`` without resume (fine-tuning from weights) is not
    checked.
    """

    priority = 'NORMAL'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Compare the checkpoint's config with the runner's on a
        resume."""
        if not getattr(runner, '_resume', False):
            return
        text = (checkpoint.get('meta') or {}).get('cfg')
        if not isinstance(text, str):
            return  # not written by an MMEngine Runner: nothing to compare
        try:
            old = parse_config_text(text)
        except SyntaxError:
            print_log(
                "The checkpoint's stored config cannot be read; the "
                'resumed config is not compared with it.',
                logger='current',
                level=30)
            return
        found = config_differences(old, runner.cfg.to_dict())
        if found:
            print_log(
                "resuming with a config that differs from the checkpoint's: " +
                describe_differences(found),
                logger='current',
                level=30)
