from .open_clip_builder import (TINY_CLIP_CFG, CLIPWeightsNotFoundError,
                                build_clip_visual, build_open_clip,
                                get_tokenizer, tokenize)

__all__ = [
    'TINY_CLIP_CFG', 'CLIPWeightsNotFoundError', 'build_clip_visual',
    'build_open_clip', 'get_tokenizer', 'tokenize'
]
