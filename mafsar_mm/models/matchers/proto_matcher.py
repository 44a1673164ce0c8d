"""Prototype matching (ProtoNet: Snell et al., "Prototypical Networks for
Few-shot Learning", NeurIPS 2017) on temporally averaged frame features,
the TSN-style baseline of few-shot action recognition (e.g. ``CNN_TSN`` in
github.com/alibaba-mmai-research/CLIP-FSAR)."""
from typing import Optional

import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from .base_matcher import BaseMatcher
from .utils import average_over_shots, check_metric


@MODELS.register_module()
class ProtoMatcher(BaseMatcher):
    """Class prototypes from temporally averaged features.

    Each video is the mean of its frame features; a class prototype is the
    mean of its shots' video features. Logits are the cosine similarity of
    query and prototype (``metric='cosine'``, i.e. minus the cosine
    distance up to the constant 1) or the negative *squared* Euclidean
    distance (``metric='euclidean'``, as in ProtoNet), times ``scale``.
    With ``average='score'`` the query is compared with every shot and
    the scores are averaged over the shots of each class instead, as the
    TSN baseline ``CNN_TSN`` does (github.com/alibaba-mmai-research/
    CLIP-FSAR @ 30cf0a8, ``models/base/few_shot.py`` L1566-1567; the same
    in 1-shot). It ignores frame order.

    ``scale`` matters when the head fuses the matching probabilities with
    a text branch (MA-FSAR, CLIP-FSAR): a cosine in [-1, 1] gives an
    almost uniform softmax that the sharp text probabilities outweigh.
    OTAM sums a cosine distance over about ``T`` frames, so ``scale=T``
    puts ProtoMatcher on OTAM's logit range.

    Args:
        metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        scale (float): Multiplies the logits (> 0). Defaults to 1.0 (no
            temperature, as the unimodal ProtoNet baseline).
        average (str): ``'prototype'`` (score against the mean of the
            shots, ProtoNet) or ``'score'`` (mean of the scores against
            each shot, ``CNN_TSN``). Defaults to 'prototype'.
        init_cfg (dict, optional): MMEngine initialisation config (the
            matcher has no parameters). Defaults to None.
    """

    METRICS = ('cosine', 'euclidean')
    AVERAGES = ('prototype', 'score')

    def __init__(self,
                 metric: str = 'cosine',
                 scale: float = 1.0,
                 average: str = 'prototype',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.metric = check_metric(metric, self.METRICS)
        if average not in self.AVERAGES:
            raise ValueError(f'average must be one of {self.AVERAGES}, '
                             f'got {average!r}')
        self.average = average
        if not scale > 0:
            raise ValueError(f'scale must be > 0, got {scale!r}')
        self.scale = float(scale)

    def match(self, support: Tensor, support_labels: Tensor, query: Tensor,
              num_classes: int) -> Tensor:
        """Scaled similarity to the prototypes (or shots), ``[Q, N]``."""
        support_video = support.mean(dim=1)  # [S, D]
        query_video = query.mean(dim=1)  # [Q, D]
        if self.average == 'score':
            if self.metric == 'cosine':
                scores = F.normalize(query_video, dim=-1) @ F.normalize(
                    support_video, dim=-1).t()  # [Q, S]
            else:
                diff = query_video[:, None] - support_video[None]
                scores = -diff.pow(2).sum(dim=-1)  # [Q, S]
            return self.scale * average_over_shots(scores, support_labels,
                                                   num_classes)
        # Mean over shots: average_over_shots works on [*, S] scores.
        prototypes = average_over_shots(support_video.t(), support_labels,
                                        num_classes).t()  # [N, D]
        if self.metric == 'cosine':
            query_video = F.normalize(query_video, dim=-1)
            prototypes = F.normalize(prototypes, dim=-1)
            return self.scale * query_video @ prototypes.t()  # [Q, N]
        diff = query_video[:, None] - prototypes[None]  # [Q, N, D]
        return -self.scale * diff.pow(2).sum(dim=-1)  # [Q, N]

    def extra_repr(self) -> str:
        return (f'metric={self.metric!r}, scale={self.scale}, '
                f'average={self.average!r}')
