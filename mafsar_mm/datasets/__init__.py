from .clipfsar_sample_frames import CLIPFSARSampleFrames
from .episode_sampler import EpisodeSampler
from .few_shot_video_dataset import (FewShotVideoDataset, read_annotations,
                                     read_class_names)
from .video_loading import (BadVideoError, ClipLoader, decode_clip,
                            log_batch_bad_videos, report_bad_video,
                            seeded_global_rngs)

__all__ = [
    'CLIPFSARSampleFrames', 'EpisodeSampler', 'FewShotVideoDataset',
    'BadVideoError', 'ClipLoader', 'read_annotations', 'read_class_names',
    'decode_clip', 'log_batch_bad_videos', 'report_bad_video',
    'seeded_global_rngs'
]
