from .clipfsar_head import CLIPFSARHead
from .few_shot_head import FewShotHead
from .score_fusion import ArithmeticFusion, BaseScoreFusion, GeometricFusion

__all__ = [
    'ArithmeticFusion', 'BaseScoreFusion', 'CLIPFSARHead', 'FewShotHead',
    'GeometricFusion'
]
