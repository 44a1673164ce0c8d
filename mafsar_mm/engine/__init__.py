from .checkpoint_loading import (load_local_checkpoint,
                                 register_checkpoint_loader)
from .dist_utils import setup_multi_process
from .episode_feature_cache import EpisodeFeatureCache
from .episodic_train_loop import EpisodicTrainLoop, seed_everything
from .few_shot_loops import FewShotTestLoop, FewShotValLoop

register_checkpoint_loader()

__all__ = [
    'EpisodeFeatureCache', 'FewShotTestLoop', 'FewShotValLoop',
    'EpisodicTrainLoop', 'seed_everything', 'load_local_checkpoint',
    'register_checkpoint_loader', 'setup_multi_process'
]
