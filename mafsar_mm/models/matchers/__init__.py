"""Temporal alignment metrics for few-shot matching.

Every matcher is a :class:`BaseMatcher`: it maps ``(support [N*K, T, D],
support_labels [N*K], query [Q, T, D])`` to logits ``[Q, N]`` (higher is
closer, no temperature)."""
from .base_matcher import BaseMatcher
from .bimhm_matcher import BiMHMMatcher
from .otam_matcher import OTAMMatcher
from .proto_matcher import ProtoMatcher
from .trx_matcher import TRXMatcher
from .utils import average_over_shots, check_matcher_inputs, frame_distances

__all__ = [
    'BaseMatcher', 'OTAMMatcher', 'BiMHMMatcher', 'ProtoMatcher', 'TRXMatcher',
    'average_over_shots', 'check_matcher_inputs', 'frame_distances'
]
