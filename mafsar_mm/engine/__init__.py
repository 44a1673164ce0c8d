from .atomic_file_backend import (AtomicLocalBackend, atomic_write,
                                  register_atomic_local_backend)
from .checkpoint_loading import (CheckpointError, CorruptCheckpointError,
                                 UnsafeCheckpointError, find_resume_checkpoint,
                                 from_weights_only_types, is_intact_checkpoint,
                                 load_local_checkpoint,
                                 register_checkpoint_loader,
                                 to_weights_only_types)
from .dist_utils import setup_multi_process
from .episode_feature_cache import EpisodeFeatureCache
from .episodic_train_loop import EpisodicTrainLoop, seed_everything
from .errors import USER_ERRORS
from .few_shot_loops import FewShotTestLoop, FewShotValLoop
from .slim_checkpoint import (CheckpointMismatchError, SlimCheckpointHook,
                              frozen_pretrained_keys, load_model_checkpoint,
                              make_slim, prepare_state_dict)

register_checkpoint_loader()
register_atomic_local_backend()

__all__ = [
    'EpisodeFeatureCache', 'FewShotTestLoop', 'FewShotValLoop',
    'EpisodicTrainLoop', 'seed_everything', 'load_local_checkpoint',
    'register_checkpoint_loader', 'setup_multi_process', 'AtomicLocalBackend',
    'atomic_write', 'register_atomic_local_backend', 'CheckpointError',
    'CorruptCheckpointError', 'UnsafeCheckpointError',
    'CheckpointMismatchError', 'find_resume_checkpoint',
    'is_intact_checkpoint', 'to_weights_only_types', 'from_weights_only_types',
    'SlimCheckpointHook', 'frozen_pretrained_keys', 'load_model_checkpoint',
    'make_slim', 'prepare_state_dict', 'USER_ERRORS'
]
