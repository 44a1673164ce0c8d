from .multimodal_transformer import MultimodalTransformer
from .temporal_transformer import TemporalTransformer
from .tpcm import TPCM
from .transformer_layer import BasePrototypeNeck, PrototypeTransformerLayer

__all__ = [
    'BasePrototypeNeck', 'MultimodalTransformer', 'PrototypeTransformerLayer',
    'TemporalTransformer', 'TPCM'
]
