# Importing this package registers loops, hooks and the CPU mixed-precision
# optimizer wrapper in MMAction2's registries and adds the 'atomic_local'
# file backend under its own name; it replaces nothing of MMEngine's
# (configs turn the safe checkpoint I/O on, see
# configs/_base_/default_runtime.py).
from .atomic_file_backend import (ATOMIC_BACKEND, AtomicLocalBackend,
                                  atomic_write)
from .checkpoint_fit import CheckpointMismatchError, prepare_state_dict
from .checkpoint_loading import (CheckpointError, CorruptCheckpointError,
                                 UnsafeCheckpointError, find_resume_checkpoint,
                                 from_weights_only_types, is_intact_checkpoint,
                                 load_local_checkpoint, safe_local_loading,
                                 to_weights_only_types)
from .checkpoint_slimming import frozen_pretrained_keys, make_slim
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper, use_amp
from .dist_utils import setup_multi_process
from .episode_feature_cache import EpisodeFeatureCache
from .episodic_train_loop import EpisodicTrainLoop, seed_everything
from .few_shot_loops import FewShotTestLoop, FewShotValLoop
from .hooks import (AtomicCheckpointHook, ParamGroupsResumeHook,
                    ResumeConfigCheckHook, SafeCheckpointLoadHook,
                    SlimCheckpointHook)
from .model_checkpoint import load_model_checkpoint

__all__ = [
    'EpisodeFeatureCache', 'FewShotTestLoop', 'FewShotValLoop',
    'EpisodicTrainLoop', 'seed_everything', 'load_local_checkpoint',
    'safe_local_loading', 'setup_multi_process', 'ATOMIC_BACKEND',
    'AtomicLocalBackend', 'atomic_write', 'CheckpointError',
    'CorruptCheckpointError', 'UnsafeCheckpointError',
    'CheckpointMismatchError', 'find_resume_checkpoint',
    'is_intact_checkpoint', 'to_weights_only_types', 'from_weights_only_types',
    'AtomicCheckpointHook', 'SlimCheckpointHook', 'ParamGroupsResumeHook',
    'SafeCheckpointLoadHook', 'ResumeConfigCheckHook',
    'frozen_pretrained_keys', 'load_model_checkpoint', 'make_slim',
    'prepare_state_dict', 'CPUAmpOptimWrapper', 'use_amp'
]
