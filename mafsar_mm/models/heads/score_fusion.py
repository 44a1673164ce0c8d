"""Score fusion: the text and matching probabilities made one prediction.

MA-FSAR's Figure 2 fuses ``p = alpha * p_Q2T + (1 - alpha) * p_Q2S``
(:class:`ArithmeticFusion`); CLIP-FSAR's ``TRAIN.COMBINE`` branch takes a
weighted product (:class:`GeometricFusion`).
"""
from typing import Optional

import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

from mafsar_mm.utils.errors import InputError


class BaseScoreFusion(nn.Module):
    """Turns the matcher's and the text branch's logits into class
    probabilities.

    Args:
        match_scale (float, optional): Temperature of the matching logits
            in the prediction, replacing the head's training
            ``match_scale``. Defaults to None (keep the training one).
    """

    def __init__(self, match_scale: Optional[float] = None) -> None:
        super().__init__()
        if match_scale is not None and not match_scale > 0:
            raise InputError(f'match_scale must be > 0, got {match_scale}')
        self.match_scale = match_scale

    def fuse(self, match: Tensor, text: Tensor, alpha: float) -> Tensor:
        """Probabilities ``[Q, N]`` from both logits, ``0 < alpha``."""
        raise NotImplementedError

    def forward(self, match: Tensor, text: Optional[Tensor], alpha: float,
                train_match_scale: Tensor) -> Tensor:
        """Class probabilities of the queries.

        Args:
            match (Tensor): The head's matching logits ``[Q, N]`` (times
                its training ``match_scale``).
            text (Tensor, optional): Text logits ``[Q, N]``; needed when
                ``alpha > 0``.
            alpha (float): Weight of the text branch in ``[0, 1]``.
            train_match_scale (Tensor): The head's training scale, which
                ``match_scale`` replaces.

        Returns:
            Tensor: ``[Q, N]``, rows summing to one.
        """
        if self.match_scale is not None:
            # undo the training scale, apply the prediction one
            match = match * (self.match_scale / train_match_scale)
        if alpha > 0:
            return self.fuse(match, text, alpha)
        return F.softmax(match, dim=1)


@MODELS.register_module()
class ArithmeticFusion(BaseScoreFusion):
    """MA-FSAR's fusion (Figure 2, docs/method.md)::

        p = alpha * softmax(text) + (1 - alpha) * softmax(match)

    Args:
        match_scale (float, optional): See :class:`BaseScoreFusion`.
            Defaults to None.
    """

    def fuse(self, match: Tensor, text: Tensor, alpha: float) -> Tensor:
        """Weighted sum of the two probabilities."""
        probs = F.softmax(match, dim=1)
        return alpha * F.softmax(text, dim=1) + (1 - alpha) * probs


@MODELS.register_module()
class GeometricFusion(BaseScoreFusion):
    """CLIP-FSAR's inference fusion, a weighted product renormalised over
    the N classes::

        p ~ softmax(text) ** alpha * softmax(match) ** (1 - alpha)

    (its ``TRAIN.COMBINE`` branch, ``TEXT_COFF`` = 0.9, in
    ``CNN_OTAM_CLIPFSAR.forward``, github.com/alibaba-mmai-research/
    CLIP-FSAR ``models/base/few_shot.py`` L2855-2930, where the matching
    probability is ``softmax((8 - d) / 8)``: ``match_scale=1/8`` on the
    logits ``-d``).

    Args:
        match_scale (float, optional): See :class:`BaseScoreFusion`.
            Defaults to None.
    """

    def fuse(self, match: Tensor, text: Tensor, alpha: float) -> Tensor:
        """Weighted product of the two probabilities, renormalised."""
        log_probs = (
            alpha * F.log_softmax(text, dim=1) +
            (1 - alpha) * F.log_softmax(match, dim=1))
        return F.softmax(log_probs, dim=1)
