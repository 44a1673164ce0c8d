from .atomic_checkpoint_hook import AtomicCheckpointHook
from .param_groups_resume_hook import ParamGroupsResumeHook
from .safe_checkpoint_load_hook import SafeCheckpointLoadHook
from .slim_checkpoint_hook import SlimCheckpointHook

__all__ = [
    'AtomicCheckpointHook', 'ParamGroupsResumeHook', 'SafeCheckpointLoadHook',
    'SlimCheckpointHook'
]
