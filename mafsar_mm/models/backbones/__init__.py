from .base_clip_tower import BaseCLIPTower
from .clip_visual import CLIPVisual
from .clip_vit_fgma import CLIPViTFgMA
from .fgma_block import FgMABlock

__all__ = ['BaseCLIPTower', 'CLIPViTFgMA', 'CLIPVisual', 'FgMABlock']
