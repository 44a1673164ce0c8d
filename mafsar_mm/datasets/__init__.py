from .clipfsar_sample_frames import CLIPFSARSampleFrames
from .episode_sampler import EpisodeSampler
from .few_shot_video_dataset import (BadVideoError, FewShotVideoDataset,
                                     read_annotations, read_class_names)

__all__ = [
    'CLIPFSARSampleFrames', 'EpisodeSampler', 'FewShotVideoDataset',
    'BadVideoError', 'read_annotations', 'read_class_names'
]
