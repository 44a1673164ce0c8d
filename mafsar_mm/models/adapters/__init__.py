from .adapter import Adapter
from .global_temporal_adapter import GlobalTemporalAdapter
from .joint_adapter import JointAdapter
from .local_multimodal_adapter import LocalMultimodalAdapter
from .local_spatiotemporal_adapter import LocalSpatiotemporalAdapter

__all__ = [
    'Adapter', 'GlobalTemporalAdapter', 'JointAdapter',
    'LocalMultimodalAdapter', 'LocalSpatiotemporalAdapter'
]
