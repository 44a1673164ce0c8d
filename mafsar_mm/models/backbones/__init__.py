from .clip_visual import CLIPVisual
from .clip_vit_fgma import CLIPViTFgMA
from .fgma_block import FgMABlock

__all__ = ['CLIPViTFgMA', 'CLIPVisual', 'FgMABlock']
