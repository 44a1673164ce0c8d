from .checkpoint_loading import (load_local_checkpoint,
                                 register_checkpoint_loader)
from .dist_utils import setup_multi_process
from .episodic_train_loop import EpisodicTrainLoop, seed_everything

register_checkpoint_loader()

__all__ = [
    'EpisodicTrainLoop', 'seed_everything', 'load_local_checkpoint',
    'register_checkpoint_loader', 'setup_multi_process'
]
