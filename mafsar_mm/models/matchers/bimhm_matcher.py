"""Bi-MHM: bidirectional mean Hausdorff metric (Wang et al., "Hybrid
Relation Guided Set Matching for Few-shot Action Recognition", HyRSM,
CVPR 2022).

Reference code: github.com/alibaba-mmai-research/HyRSM
(``models/base/few_shot.py``, ``CNN_HyRSM_1shot.forward``; the same in
CLIP-FSAR and MoLo): frame distance ``1 - cos`` of L2-normalised features,
``dists.min(3)[0].sum(2) + dists.min(2)[0].sum(2)`` (a sum over frames),
mean over shots, logits = -distance. Written from the maths; the code is
not copied.
"""
from typing import Optional

from mmaction.registry import MODELS
from torch import Tensor

from .base_matcher import BaseMatcher
from .utils import (FRAME_METRICS, average_over_shots, check_metric,
                    frame_distances)


@MODELS.register_module()
class BiMHMMatcher(BaseMatcher):
    """Bidirectional mean Hausdorff metric as a matcher.

    For a query ``q`` and a support ``s`` with frame distances ``d(i, j)``::

        D(q, s) = R_i min_j d(q_i, s_j) + R_j min_i d(s_j, q_i)

    where ``R`` is a sum over frames (``reduction='sum'``, as in the HyRSM
    reference code) or a mean (``reduction='mean'``, the paper's
    ``1 / n`` normalisation; with equal ``T`` this only rescales by ``T``).
    The distance is averaged over the shots of each class and
    logits = -distance. It ignores frame order. No temperature is applied.

    Args:
        metric (str): Frame distance, ``'cosine'`` (``1 - cos`` of
            L2-normalised features, HyRSM's choice) or ``'euclidean'``
            (L2 distance). Defaults to ``'cosine'``.
        reduction (str): ``'sum'`` or ``'mean'`` over frames. Defaults to
            ``'sum'``.
        init_cfg (dict, optional): MMEngine initialisation config (the
            matcher has no parameters). Defaults to None.
    """

    def __init__(self,
                 metric: str = 'cosine',
                 reduction: str = 'sum',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.metric = check_metric(metric, FRAME_METRICS)
        if reduction not in ('sum', 'mean'):
            raise ValueError(f'Unknown reduction {reduction!r}; supported: '
                             "'sum', 'mean'.")
        self.reduction = reduction

    def match(self, support: Tensor, support_labels: Tensor, query: Tensor,
              num_classes: int) -> Tensor:
        """Minus the Bi-MHM distance, ``[Q, N]``."""
        dists = frame_distances(query, support, self.metric)  # [Q, S, T, T]
        q2s = dists.min(dim=3).values  # [Q, S, T_q]
        s2q = dists.min(dim=2).values  # [Q, S, T_s]
        if self.reduction == 'sum':
            pair_dists = q2s.sum(dim=-1) + s2q.sum(dim=-1)  # [Q, S]
        else:
            pair_dists = q2s.mean(dim=-1) + s2q.mean(dim=-1)  # [Q, S]
        class_dists = average_over_shots(pair_dists, support_labels,
                                         num_classes)  # [Q, N]
        return -class_dists

    def extra_repr(self) -> str:
        return f'metric={self.metric!r}, reduction={self.reduction!r}'
