"""CLIP-FSAR's head: its prototype merging, text-loss classes and loss
weighting on top of :class:`FewShotHead`."""
from typing import Dict, Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor

from mafsar_mm.utils.errors import InputError
from .few_shot_head import FewShotHead, merge_shots

TEXT_CLASS_SETS = ('episode', 'split')
TEXT_LOSS_AVERAGES = ('branch', 'video')


@MODELS.register_module()
class CLIPFSARHead(FewShotHead):
    """The head of CLIP-FSAR (Wang et al., "CLIP-guided Prototype
    Modulating for Few-shot Action Recognition", IJCV 2023), as its
    official ``CNN_OTAM_CLIPFSAR`` (github.com/alibaba-mmai-research/
    CLIP-FSAR @ 30cf0a8, ``models/base/few_shot.py``) and
    ``runs/train_net_few_shot.py`` run it (file:line of every value in
    docs/recipes.md).

    Its loss is a sum, ``L = match_loss + text_loss``: CLIP-FSAR's
    ``CE(OTAM) + w * CE(text)`` (train_net_few_shot.py L134) is
    ``text_loss=dict(type='CrossEntropyLoss', loss_weight=w)``. There is
    no loss ``alpha``; ``predict_alpha`` weights the text branch in the
    prediction (0: OTAM alone, the released evaluation; 0.9 with
    ``GeometricFusion``: its ``TRAIN.COMBINE`` branch).

    Args:
        matcher (dict): Config of the matcher. Defaults to OTAM with
            lambda 0.5 (``OTAM_cum_dist_v2``).
        neck (dict, optional): Prototype module. Defaults to
            ``dict(type='MultimodalTransformer')``.
        text_loss (dict, optional): Text loss; None trains without it.
            Defaults to cross-entropy weighted 3.0 (SSv2's
            ``USE_CLASSIFICATION_VALUE``).
        text_classes (str): Classes of the training text loss:
            ``'episode'`` (the episode's N classes) or ``'split'`` (every
            class of the training split, CLIP-FSAR's ``class_logits``
            against ``text_features_train``; the recognizer passes their
            text features). Prediction always uses the episode's classes.
            Defaults to 'split'.
        text_loss_average (str): ``'video'``: one loss over all support
            and query videos (CLIP-FSAR's single cross-entropy over
            ``cat([support, query])``); ``'branch'``: the mean of the
            support and the query loss. Defaults to 'video'.
        shot_merge (str): ``'distance'``, ``'after_neck'`` (CLIP-FSAR's
            default: class means after the transformer, L2957-2962) or
            ``'before_neck'`` (``TRAIN.MERGE_BEFORE``, set by its 5-shot
            configs: the shots and their texts averaged before it,
            L2949-2954). Defaults to 'after_neck'.
        predict_alpha (float): Weight of the text branch in the
            prediction. Defaults to 0.0.
        fusion (dict): Score fusion. Defaults to
            ``dict(type='GeometricFusion', match_scale=1 / 8)``
            (``softmax((8 - d) / 8)``).
        text_logit_scale (float): Initial text temperature. Defaults to
            1.0 (L2733-2734).
        **kwargs: The other arguments of :class:`FewShotHead`
            (``match_loss``, ``match_scale``, ``learnable_match_scale``,
            ``learnable_text_scale``, ``predict_mode``, ``init_cfg``).
    """

    SHOT_MERGES = ('distance', 'after_neck', 'before_neck')

    def __init__(self,
                 matcher: dict = dict(type='OTAMMatcher', lbda=0.5),
                 neck: Optional[dict] = dict(type='MultimodalTransformer'),
                 text_loss: Optional[dict] = dict(
                     type='CrossEntropyLoss', loss_weight=3.0),
                 text_classes: str = 'split',
                 text_loss_average: str = 'video',
                 shot_merge: str = 'after_neck',
                 predict_alpha: float = 0.0,
                 fusion: dict = dict(
                     type='GeometricFusion', match_scale=1 / 8),
                 text_logit_scale: float = 1.0,
                 **kwargs) -> None:
        if 'alpha' in kwargs:
            raise InputError(
                'CLIPFSARHead has no loss alpha: its loss is match_loss + '
                'text_loss; set text_loss=dict(type=..., loss_weight=w)')
        for name, value, allowed in (('text_classes', text_classes,
                                      TEXT_CLASS_SETS),
                                     ('text_loss_average', text_loss_average,
                                      TEXT_LOSS_AVERAGES)):
            if value not in allowed:
                raise InputError(f'{name} must be one of {allowed}, got '
                                 f'{value!r}')
        self.text_classes = text_classes
        self.text_loss_average = text_loss_average
        self._has_text_loss = text_loss is not None
        super().__init__(
            matcher=matcher,
            neck=neck,
            alpha=0.0,
            predict_alpha=predict_alpha,
            text_loss=text_loss,
            fusion=fusion,
            text_logit_scale=text_logit_scale,
            shot_merge=shot_merge,
            **kwargs)

    @property
    def trains_text(self) -> bool:
        """Whether the loss has a text term (a ``text_loss`` is set)."""
        return self._has_text_loss

    def merge_before_neck(self, support: Tensor, support_labels: Tensor,
                          num_classes: int) -> tuple:
        """``MERGE_BEFORE``: class means of the support features before
        the prototype module (each with its class text)."""
        if self.shot_merge != 'before_neck':
            return support, support_labels
        support = merge_shots(support, support_labels, num_classes)
        return support, torch.arange(num_classes, device=support_labels.device)

    def loss(self,
             support: Tensor,
             support_labels: Tensor,
             query: Tensor,
             query_labels: Tensor,
             text: Optional[Tensor] = None,
             split_text: Optional[Tensor] = None,
             split_targets: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Losses of one episode; arguments as in :meth:`forward`, plus
        ``query_labels`` ``[Q]`` and, for ``text_classes='split'``, the
        text features of the training split's classes ``split_text``
        ``[C, D]`` and the split index of each episode class
        ``split_targets`` ``[N]``."""
        outputs = self(support, support_labels, query, text)
        query_labels_text = None
        if self.trains_text and self.text_classes == 'split':
            if split_text is None or split_targets is None:
                raise InputError(
                    "text_classes='split' needs the text features of the "
                    'training classes; the recognizer gives them when the '
                    'episodes carry split_class_names.')
            outputs['s2t'] = self.text_logits(support, split_text)
            outputs['q2t'] = self.text_logits(query, split_text)
            support_labels = split_targets[support_labels]
            query_labels_text = split_targets[query_labels]
        return self.loss_by_feat(outputs, support_labels, query_labels,
                                 query_labels_text)

    def loss_by_feat(
            self,
            outputs: Dict[str, Tensor],
            support_labels: Tensor,
            query_labels: Tensor,
            query_labels_text: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """``match_loss + text_loss`` from the outputs of :meth:`forward`
        (labels as in :meth:`FewShotHead.loss_by_feat`)."""
        losses = {'loss_q2s': self.match_loss(outputs['match'], query_labels)}
        with torch.no_grad():
            losses['acc_q2s'] = (
                outputs['match'].argmax(1) == query_labels).float().mean()
        if not self.trains_text:
            return losses
        if query_labels_text is None:
            query_labels_text = query_labels
        if self.text_loss_average == 'video':
            losses['loss_text'] = self.text_loss(
                torch.cat([outputs['s2t'], outputs['q2t']]),
                torch.cat([support_labels, query_labels_text]))
        else:
            losses['loss_text'] = (
                self.text_loss(outputs['s2t'], support_labels) +
                self.text_loss(outputs['q2t'], query_labels_text)) / 2
        return losses
