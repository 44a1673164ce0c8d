# Importing this registers loops, hooks and the CPU AMP optimizer wrapper
# in MMAction2's registries and adds the 'atomic_local' file backend; it
# replaces nothing of MMEngine's.
from .atomic_file_backend import (ATOMIC_BACKEND, AtomicLocalBackend,
                                  atomic_write)
from .checkpoint import (CheckpointError, CheckpointMismatchError,
                         CorruptCheckpointError, UnsafeCheckpointError,
                         check_checkpoint_file, find_resume_checkpoint,
                         from_weights_only_types, frozen_pretrained_keys,
                         load_into_model, load_model_checkpoint, make_slim,
                         to_weights_only_types)
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .episode_feature_cache import EpisodeFeatureCache
from .loops import EpisodicTrainLoop, FewShotTestLoop, FewShotValLoop
from .hooks import (AtomicCheckpointHook, ResumeConfigCheckHook,
                    SlimCheckpointHook)

__all__ = [
    'ATOMIC_BACKEND', 'AtomicLocalBackend', 'atomic_write', 'CheckpointError',
    'CheckpointMismatchError', 'CorruptCheckpointError',
    'UnsafeCheckpointError', 'check_checkpoint_file', 'find_resume_checkpoint',
    'frozen_pretrained_keys', 'from_weights_only_types', 'load_into_model',
    'load_model_checkpoint', 'make_slim', 'to_weights_only_types',
    'CPUAmpOptimWrapper', 'EpisodeFeatureCache', 'EpisodicTrainLoop',
    'FewShotTestLoop', 'FewShotValLoop', 'AtomicCheckpointHook',
    'ResumeConfigCheckHook', 'SlimCheckpointHook'
]
