"""OTAM: ordered temporal alignment (Cao et al., "Few-Shot Video
Classification via Temporal Alignment", CVPR 2020).

The recursion is the one of ``OTAM_cum_dist`` / ``OTAM_cum_dist_v2`` in
github.com/alibaba-mmai-research/CLIP-FSAR (@ 30cf0a8,
``models/base/few_shot.py``); the two functions differ only in the default
lambda: ``OTAM_cum_dist`` (L1371, lambda = 0.1) is the OTAM baseline
``CNN_OTAM`` (L1434; the same function and head in HyRSM's
``models/base/few_shot.py`` L334 and L397), ``OTAM_cum_dist_v2`` (L2657,
lambda = 0.5) is CLIP-FSAR's ``CNN_OTAM_CLIPFSAR`` (L2982). HyRSM and MoLo
(``CNN_BiMHM_MoLo``, L2614-2616) match with Bi-MHM, not OTAM. Written from
the maths; the code is not copied.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from .base_matcher import BaseMatcher
from .utils import average_over_shots, frame_distances


def soft_min(*values: Tensor, lbda: float = 0.5) -> Tensor:
    """Smooth minimum ``-lbda * log(sum_i exp(-x_i / lbda))``.

    Evaluated with ``logsumexp``, which equals the reference's plain
    ``log(exp + exp ...)`` but cannot overflow.

    Args:
        *values (Tensor): Tensors of the same shape.
        lbda (float): Smoothness; smaller is closer to the hard minimum.
            Defaults to 0.5.

    Returns:
        Tensor: The element-wise smooth minimum.
    """
    stacked = torch.stack(values, dim=0)
    return -lbda * torch.logsumexp(-stacked / lbda, dim=0)


def otam_cum_dist(dists: Tensor, lbda: float = 0.5) -> Tensor:
    """One-directional OTAM cumulative distance (CLIP-FSAR's recursion).

    With ``D`` the frame distance matrix padded with one zero column on each
    side of the second (support) time axis, so ``D[:, :, l, 0] =
    D[:, :, l, M-1] = 0`` with ``M = T_s + 2``, and ``C`` the cumulative
    distance (zero where not set below):

    - first row: ``C[0, m] = D[0, m] + C[0, m-1]`` (a plain sum, as in the
      reference, not a soft-min);
    - column 0 of every later row stays 0, so an alignment may start at any
      query frame;
    - rows ``l >= 1``:

      - ``C[l, 1] = D[l, 1] + softmin(C[l-1, 0], C[l-1, 1], C[l, 0])``;
      - ``C[l, m] = D[l, m] + softmin(C[l-1, m-1], C[l, m-1])`` for
        ``2 <= m <= M-2``;
      - ``C[l, M-1] = D[l, M-1] + softmin(C[l-1, M-2], C[l-1, M-1],
        C[l, M-2])``.

    The distance is ``C[T_q - 1, M - 1]``. All query x support pairs are
    computed at once; only the recursion itself loops over frames.

    Args:
        dists (Tensor): Frame distances of shape ``[Q, S, T_q, T_s]``.
        lbda (float): Soft-min smoothness. Defaults to 0.5.

    Returns:
        Tensor: Cumulative distances of shape ``[Q, S]``.
    """
    dists = F.pad(dists, (1, 1), 'constant', 0)  # [Q, S, T_q, T_s + 2]
    num_rows, num_cols = dists.shape[2], dists.shape[3]
    # First row: running sum along the padded support axis.
    prev = list(torch.cumsum(dists[:, :, 0], dim=-1).unbind(-1))
    zero = torch.zeros_like(prev[0])  # [Q, S]
    for row in range(1, num_rows):
        d_row = dists[:, :, row].unbind(-1)  # M tensors of [Q, S]
        cur = [zero]
        cur.append(d_row[1] + soft_min(prev[0], prev[1], cur[0], lbda=lbda))
        for col in range(2, num_cols - 1):
            cur.append(d_row[col] +
                       soft_min(prev[col - 1], cur[col - 1], lbda=lbda))
        cur.append(d_row[-1] +
                   soft_min(prev[-2], prev[-1], cur[-1], lbda=lbda))
        prev = cur
    return prev[-1]  # [Q, S]


@MODELS.register_module()
class OTAMMatcher(BaseMatcher):
    """Ordered Temporal Alignment Module distance as a matcher.

    OTAM: Cao et al., CVPR 2020; as computed in CLIP-FSAR
    (github.com/alibaba-mmai-research/CLIP-FSAR): frame distance
    ``1 - cos`` of L2-normalised features, one zero padding column on each
    side of the support time axis, soft-min dynamic programming with
    ``lbda``, query->support plus support->query (transposed distance
    matrix) when ``bidirectional``, mean over the shots of each class,
    logits = -distance. No temperature is applied.

    CLIP-FSAR's ``cos_sim`` adds 0.01 to the product of the norms; this
    matcher uses the exact cosine (the features are L2-normalised first).

    Args:
        lbda (float): Soft-min smoothness lambda: 0.1 in the OTAM
            baseline ``CNN_OTAM``, 0.5 in CLIP-FSAR (and, following it,
            MA-FSAR). Defaults to 0.5.
        bidirectional (bool): Add the support->query alignment to the
            query->support one. Defaults to True.
        init_cfg (dict, optional): MMEngine initialisation config (the
            matcher has no parameters). Defaults to None.
    """

    def __init__(self,
                 lbda: float = 0.5,
                 bidirectional: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if lbda <= 0:
            raise ValueError(f'lbda must be positive, got {lbda}.')
        self.lbda = lbda
        self.bidirectional = bidirectional

    def match(self, support: Tensor, support_labels: Tensor, query: Tensor,
              num_classes: int) -> Tensor:
        """Minus the OTAM distance, ``[Q, N]``."""
        dists = frame_distances(query, support, 'cosine')  # [Q, S, T, T]
        cum_dists = otam_cum_dist(dists, self.lbda)  # [Q, S]
        if self.bidirectional:
            cum_dists = cum_dists + otam_cum_dist(
                dists.transpose(-2, -1), self.lbda)  # [Q, S]
        class_dists = average_over_shots(cum_dists, support_labels,
                                         num_classes)  # [Q, N]
        return -class_dists

    def extra_repr(self) -> str:
        return f'lbda={self.lbda}, bidirectional={self.bidirectional}'
