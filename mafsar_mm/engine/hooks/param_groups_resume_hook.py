"""Keep the optimizer's hyper-parameters across a resume without optimizer
state (``CheckpointHook(save_optimizer=False)``)."""
from typing import List, Optional

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ..checkpoint_fit import CheckpointMismatchError


@HOOKS.register_module()
class ParamGroupsResumeHook(Hook):
    """Store the param groups' hyper-parameters (learning rate, weight
    decay, ...) in checkpoints without optimizer state and put them back
    when training resumes from one.

    MMEngine's schedulers update the learning rate relative to its
    current value, so a resume without the optimizer state would restart
    the learning rate from the value the schedulers set at the start.
    Checkpoints with optimizer state need nothing: MMEngine restores it.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._saved: Optional[List[dict]] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Without optimizer state, keep the hyper-parameters of each param
        group in ``meta['param_groups']``."""
        groups = getattr(
            getattr(runner, 'optim_wrapper', None), 'param_groups', None)
        if 'optimizer' not in checkpoint and isinstance(groups, list):
            checkpoint.setdefault('meta', {})['param_groups'] = [{
                k: v
                for k, v in group.items() if k != 'params'
            } for group in groups]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On a resume without optimizer state, remember the saved param
        groups (the optimizer is not built yet with its final values)."""
        self._saved = None
        if not getattr(runner, '_resume', False) or \
                'optimizer' in checkpoint:
            return
        self._saved = (checkpoint.get('meta') or {}).get('param_groups')
        if not self._saved:
            print_log(
                'The checkpoint has neither optimizer state nor the '
                "optimizer's param groups (it was not written with "
                'ParamGroupsResumeHook): the learning rate restarts from '
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
        """Put back the saved hyper-parameters of each param group."""
        saved, self._saved = self._saved, None
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
