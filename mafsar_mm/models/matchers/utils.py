"""Helpers shared by the few-shot matchers.

All matchers take ``support [N*K, T, D]``, ``support_labels [N*K]`` and
``query [Q, T, D]`` and return logits ``[Q, N]``. The helpers here check
these inputs, compute frame-to-frame distance matrices for every
query x support pair at once and average pair scores over the shots of
each class.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

FRAME_METRICS = ('cosine', 'euclidean')


def check_matcher_inputs(support: Tensor, support_labels: Tensor,
                         query: Tensor) -> int:
    """Check the shapes of a matcher's inputs and return the number of ways.

    Args:
        support (Tensor): Support frame features of shape ``[S, T, D]``.
        support_labels (Tensor): Integer labels of shape ``[S]`` with values
            ``0..N-1``; every value in that range must occur at least once.
        query (Tensor): Query frame features of shape ``[Q, T, D]``.

    Returns:
        int: The number of classes ``N = support_labels.max() + 1``.

    Raises:
        ValueError: On wrong ranks, different ``T`` or ``D`` between support
            and query, a label vector whose length differs from ``S``,
            non-integer labels or classes without any support video.
    """
    if support.dim() != 3 or query.dim() != 3:
        raise ValueError(
            'Matchers expect support [S, T, D] and query [Q, T, D], got '
            f'support {tuple(support.shape)} and query '
            f'{tuple(query.shape)}.')
    if support.shape[1:] != query.shape[1:]:
        raise ValueError(
            'Support and query must have the same number of frames T and '
            f'feature size D, got support {tuple(support.shape)} and query '
            f'{tuple(query.shape)}.')
    if support_labels.dim() != 1 or support_labels.shape[0] != len(support):
        raise ValueError(
            f'support_labels must have shape [{len(support)}] (one label per '
            f'support video), got {tuple(support_labels.shape)}.')
    if support_labels.is_floating_point() or support_labels.is_complex():
        raise ValueError('support_labels must be an integer tensor, got '
                         f'{support_labels.dtype}.')
    if len(support) == 0:
        raise ValueError('The support set is empty.')
    if int(support_labels.min()) < 0:
        raise ValueError('support_labels must be episode-local class '
                         'indices 0..N-1, got a negative label.')
    num_classes = int(support_labels.max()) + 1
    counts = torch.bincount(support_labels.long(), minlength=num_classes)
    if bool((counts == 0).any()):
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(
            f'support_labels must cover every class 0..{num_classes - 1}; '
            f'classes {missing} have no support video.')
    return num_classes


def average_over_shots(pair_scores: Tensor, support_labels: Tensor,
                       num_classes: int) -> Tensor:
    """Average query x support scores over the shots of each class.

    This is the vectorised form of the per-class ``torch.mean(
    torch.index_select(scores, 1, class_indices), dim=1)`` used by OTAM,
    Bi-MHM and TSN heads of CLIP-FSAR / HyRSM; supports may come in any
    order.

    Args:
        pair_scores (Tensor): Scores of shape ``[Q, S]``.
        support_labels (Tensor): Labels of shape ``[S]`` in ``0..N-1``.
        num_classes (int): The number of classes ``N``.

    Returns:
        Tensor: Class scores of shape ``[Q, N]``.
    """
    one_hot = F.one_hot(support_labels.long(), num_classes)  # [S, N]
    one_hot = one_hot.to(pair_scores.dtype)
    counts = one_hot.sum(dim=0)  # [N]
    return pair_scores @ one_hot / counts  # [Q, N]


def frame_distances(query: Tensor,
                    support: Tensor,
                    metric: str = 'cosine') -> Tensor:
    """Distances between all query frames and all support frames.

    Args:
        query (Tensor): Query features of shape ``[Q, T, D]``.
        support (Tensor): Support features of shape ``[S, T, D]``.
        metric (str): ``'cosine'`` for ``1 - cos`` of L2-normalised frame
            features or ``'euclidean'`` for the (non-squared) L2 distance.
            Defaults to ``'cosine'``.

    Returns:
        Tensor: Distances of shape ``[Q, S, T_q, T_s]``; entry
        ``[q, s, i, j]`` is the distance of query frame ``i`` of query ``q``
        to support frame ``j`` of support ``s``.
    """
    if metric == 'cosine':
        query = F.normalize(query, dim=-1)
        support = F.normalize(support, dim=-1)
        sim = torch.einsum('qid,sjd->qsij', query, support)  # [Q, S, T, T]
        return 1 - sim
    if metric == 'euclidean':
        q, t_q, d = query.shape
        s, t_s, _ = support.shape
        dists = torch.cdist(
            query.reshape(1, q * t_q, d),
            support.reshape(1, s * t_s, d),
            compute_mode='donot_use_mm_for_euclid_dist')  # [1, QT, ST]
        dists = dists.reshape(q, t_q, s, t_s)
        return dists.permute(0, 2, 1, 3)  # [Q, S, T, T]
    raise ValueError(f'Unknown frame metric {metric!r}; supported: '
                     f'{", ".join(repr(m) for m in FRAME_METRICS)}.')


def check_metric(metric: str, supported: Tuple[str, ...]) -> str:
    """Return ``metric`` if supported, else raise a ValueError.

    Args:
        metric (str): The requested metric.
        supported (tuple[str]): The supported metric names.

    Returns:
        str: ``metric``.
    """
    if metric not in supported:
        raise ValueError(f'Unknown metric {metric!r}; supported: '
                         f'{", ".join(repr(m) for m in supported)}.')
    return metric
