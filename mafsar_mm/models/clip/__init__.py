from .open_clip_builder import (TINY_CLIP_CFG, CLIPCheckpointError,
                                CLIPWeightsNotFoundError, build_clip_part,
                                build_clip_visual, build_open_clip,
                                check_clip_weights, get_tokenizer,
                                share_clip_models, tokenize)
from .open_clip_compat import (SUPPORTED_OPEN_CLIP, UnsupportedOpenCLIPError,
                               check_open_clip_tower)

__all__ = [
    'TINY_CLIP_CFG', 'CLIPCheckpointError', 'CLIPWeightsNotFoundError',
    'build_clip_part', 'build_clip_visual', 'check_clip_weights',
    'build_open_clip', 'share_clip_models', 'get_tokenizer', 'tokenize',
    'SUPPORTED_OPEN_CLIP', 'UnsupportedOpenCLIPError', 'check_open_clip_tower'
]
