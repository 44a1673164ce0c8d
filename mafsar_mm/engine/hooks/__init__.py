from .atomic_checkpoint_hook import AtomicCheckpointHook
from .resume_config_check_hook import ResumeConfigCheckHook
from .slim_checkpoint_hook import SlimCheckpointHook

__all__ = [
    'AtomicCheckpointHook', 'ResumeConfigCheckHook', 'SlimCheckpointHook'
]
