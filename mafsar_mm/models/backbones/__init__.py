from .clip_visual import CLIPVisual
from .clip_vit_fgma import CLIPViTFgMA

__all__ = ['CLIPViTFgMA', 'CLIPVisual']
