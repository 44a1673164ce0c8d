# Importing this package registers loops, hooks and the CPU mixed-precision
# optimizer wrapper in MMAction2's registries and adds the 'atomic_local'
# file backend under its own name; it replaces nothing of MMEngine's.
from .atomic_file_backend import (ATOMIC_BACKEND, AtomicLocalBackend,
                                  atomic_write)
from .checkpoint import (CheckpointError, CheckpointMismatchError,
                         CorruptCheckpointError, UnsafeCheckpointError,
                         check_checkpoint_file, find_resume_checkpoint,
                         from_weights_only_types, load_model_checkpoint,
                         to_weights_only_types)
from .checkpoint_slimming import (frozen_pretrained_keys, load_into_model,
                                  make_slim)
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .episode_feature_cache import EpisodeFeatureCache
from .episodic_train_loop import EpisodicTrainLoop
from .few_shot_loops import FewShotTestLoop, FewShotValLoop
from .hooks import (AtomicCheckpointHook, ResumeConfigCheckHook,
                    SlimCheckpointHook)

__all__ = [
    'ATOMIC_BACKEND', 'AtomicLocalBackend', 'atomic_write', 'CheckpointError',
    'CheckpointMismatchError', 'CorruptCheckpointError',
    'UnsafeCheckpointError', 'check_checkpoint_file', 'find_resume_checkpoint',
    'from_weights_only_types', 'load_model_checkpoint',
    'to_weights_only_types', 'frozen_pretrained_keys', 'load_into_model',
    'make_slim', 'CPUAmpOptimWrapper', 'setup_multi_process',
    'EpisodeFeatureCache', 'EpisodicTrainLoop', 'FewShotTestLoop',
    'FewShotValLoop', 'AtomicCheckpointHook', 'ResumeConfigCheckHook',
    'SlimCheckpointHook'
]
