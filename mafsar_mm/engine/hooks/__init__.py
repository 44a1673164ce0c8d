from .atomic_checkpoint_hook import AtomicCheckpointHook
from .param_groups_resume_hook import ParamGroupsResumeHook
from .resume_config_check_hook import ResumeConfigCheckHook
from .safe_checkpoint_load_hook import SafeCheckpointLoadHook
from .slim_checkpoint_hook import SlimCheckpointHook

__all__ = [
    'AtomicCheckpointHook', 'ParamGroupsResumeHook', 'ResumeConfigCheckHook',
    'SafeCheckpointLoadHook', 'SlimCheckpointHook'
]
