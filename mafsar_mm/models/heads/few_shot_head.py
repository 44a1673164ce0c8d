"""The few-shot head: prototypes, matching, text branch, losses, fusion."""
import math
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

TEXT_LOSSES = ('kl', 'ce')
FUSIONS = ('arithmetic', 'geometric')
SHOT_MERGES = ('distance', 'after_neck', 'before_neck')
TEXT_CLASS_SETS = ('episode', 'split')
TEXT_LOSS_AVERAGES = ('branch', 'video')
PREDICT_MODES = ('fused', 'match', 'text')


def merge_shots(feats: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Average the frame features of each class's shots, frame by frame.

    CLIP-FSAR's prototype (``torch.mean(torch.index_select(support, 0,
    class_indices), dim=0)`` per class, ``CNN_OTAM_CLIPFSAR.forward``,
    github.com/alibaba-mmai-research/CLIP-FSAR ``models/base/few_shot.py``
    L2799-2803 and L2809-2811).

    Args:
        feats (Tensor): Support features ``[S, T, D]``.
        labels (Tensor): Episode-local labels ``[S]`` in ``0..N-1``.
        num_classes (int): ``N``.

    Returns:
        Tensor: One prototype per class ``[N, T, D]``, in label order.
    """
    one_hot = F.one_hot(labels.long(), num_classes).to(feats.dtype)  # [S, N]
    summed = torch.einsum('sn,std->ntd', one_hot, feats)
    return summed / one_hot.sum(dim=0)[:, None, None]


def kl_to_onehot(logits: Tensor, labels: Tensor,
                 target_scale: float) -> Tensor:
    """ActionCLIP's KL loss between ``softmax(logits)`` and a sharpened
    one-hot target ``softmax(target_scale * onehot)``, batch mean.

    Reference: Wang et al., "ActionCLIP", 2021 (``KLLoss`` in
    github.com/sallymmx/ActionCLIP).
    """
    onehot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    target = F.softmax(target_scale * onehot, dim=1)
    return F.kl_div(
        F.log_softmax(logits, dim=1), target, reduction='batchmean')


@MODELS.register_module()
class FewShotHead(BaseModule):
    """Scores queries of an episode against its support set.

    ``support``/``query`` are the encoder's frame features. An optional
    ``neck`` (TPCM, CLIP-FSAR's multimodal transformer, ...) refines them,
    the ``matcher`` turns them into query-to-class logits ``[Q, N]``
    (minus a distance). With ``alpha > 0`` a text branch compares the
    time-averaged *encoder* features (before the neck) with the episode's
    class texts (docs/method.md)::

        L = alpha * (L_S2T + L_Q2T) / 2 + (1 - alpha) * L_Q2S
        p = alpha * p_Q2T + (1 - alpha) * p_Q2S

    (``predict_alpha`` replaces ``alpha`` in the prediction when given;
    ``loss_weight`` scales L; ``text_loss_average='video'`` makes the text
    term one mean over all videos and ``text_classes='split'`` runs it
    over every training class; ``shot_merge`` says where the K shots of
    a class are averaged). ``predict_mode`` picks what the prediction
    uses: ``'fused'`` (the formula above), ``'match'`` (``p_Q2S`` alone)
    or ``'text'`` (``p_Q2T`` alone: zero-shot, no support video needed).
    ``fusion='geometric'`` fuses as CLIP-FSAR does at inference (its
    ``TRAIN.COMBINE`` branch, ``TEXT_COFF`` = 0.9, in
    ``CNN_OTAM_CLIPFSAR.forward``, github.com/alibaba-mmai-research/
    CLIP-FSAR, ``models/base/few_shot.py``)::

        p ~ p_Q2T ** predict_alpha * p_Q2S ** (1 - predict_alpha)

    renormalised over the N classes, where ``p_Q2S`` may use its own
    temperature ``predict_match_scale`` (CLIP-FSAR: ``softmax((8 - d) /
    8)``, i.e. 1/8 on the logits ``-d``).

    Args:
        matcher (dict): Config of the matcher (``MODELS``).
        neck (dict, optional): Config of the prototype module, called as
            ``neck(support, query, support_text=...)``. Defaults to None.
        alpha (float): Weight of the text branch in the loss, in [0, 1].
            Defaults to 0.0 (no text branch).
        predict_alpha (float, optional): Weight of the text branch in the
            prediction. Defaults to None (same as ``alpha``).
        match_scale (float): Multiplies the matcher's logits before the
            softmax and the cross-entropy. Defaults to 1.0.
        learnable_match_scale (bool): Learn ``match_scale`` (in log
            space). Defaults to False.
        text_logit_scale (float): Initial temperature of the text logits
            (CLIP's initial ``1 / 0.07``). Defaults to ``1 / 0.07``.
        learnable_text_scale (bool): Learn the text temperature (log
            space, capped at 100 as in CLIP). Defaults to True.
        text_loss (str): ``'kl'`` (ActionCLIP KL to a sharpened one-hot)
            or ``'ce'``. Defaults to 'kl'.
        kl_target_scale (float): Sharpness of the KL target. Defaults to
            10.0 (ActionCLIP).
        fusion (str): How the prediction fuses the text and matching
            probabilities: ``'arithmetic'`` (weighted sum, MA-FSAR)
            or ``'geometric'`` (weighted product, CLIP-FSAR). Defaults to
            'arithmetic'.
        predict_match_scale (float, optional): Multiplies the matcher's
            logits (instead of ``match_scale``) before the softmax of the
            prediction. Defaults to None (``match_scale``).
        shot_merge (str): How K shots make one class score:
            ``'distance'`` (the matcher averages its query-support
            distances over the shots, as OTAM's ``CNN_OTAM`` and
            HyRSM's 1-shot head), ``'after_neck'`` (the support features
            of a class are averaged frame by frame after the prototype
            module, before the matcher: CLIP-FSAR's default) or
            ``'before_neck'`` (averaged before the prototype module, with
            the class text: CLIP-FSAR's ``TRAIN.MERGE_BEFORE``, set by its
            5-shot configs). The same with one shot. Defaults to
            'distance'.
        text_classes (str): Classes of the training text loss:
            ``'episode'`` (the episode's N classes) or ``'split'`` (every
            class of the training split, CLIP-FSAR's ``class_logits``
            against ``text_features_train``; the recognizer passes their
            text features). Prediction always uses the episode's classes.
            Defaults to 'episode'.
        text_loss_average (str): ``'branch'``: ``(L_S2T + L_Q2T) / 2``,
            each a mean over its videos; ``'video'``: one mean over all
            support and query videos (CLIP-FSAR's single cross-entropy
            over ``cat([support, query])``). Defaults to 'branch'.
        loss_weight (float): Multiplies every loss. With
            ``alpha = w / (1 + w)`` and ``loss_weight = 1 + w`` the loss is
            CLIP-FSAR's ``L_match + w * L_text`` exactly (this matters with
            Adam's L2 weight decay). Defaults to 1.0.
        predict_mode (str): ``'fused'`` (text and matching probabilities
            fused as above), ``'match'`` (matcher only) or ``'text'``
            (class texts against the queries' time-averaged features,
            ``p_Q2T``; support videos are not used). Defaults to 'fused'.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 matcher: dict,
                 neck: Optional[dict] = None,
                 alpha: float = 0.0,
                 predict_alpha: Optional[float] = None,
                 match_scale: float = 1.0,
                 learnable_match_scale: bool = False,
                 text_logit_scale: float = 1 / 0.07,
                 learnable_text_scale: bool = True,
                 text_loss: str = 'kl',
                 kl_target_scale: float = 10.0,
                 fusion: str = 'arithmetic',
                 predict_match_scale: Optional[float] = None,
                 shot_merge: str = 'distance',
                 text_classes: str = 'episode',
                 text_loss_average: str = 'branch',
                 loss_weight: float = 1.0,
                 predict_mode: str = 'fused',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        options = (('shot_merge', shot_merge, SHOT_MERGES),
                   ('text_classes', text_classes, TEXT_CLASS_SETS),
                   ('text_loss_average', text_loss_average,
                    TEXT_LOSS_AVERAGES))
        for name, value, allowed in options:
            if value not in allowed:
                raise ValueError(f'{name} must be one of {allowed}, got '
                                 f'{value!r}')
        if not loss_weight > 0:
            raise ValueError(f'loss_weight must be > 0, got {loss_weight}')
        self.shot_merge = shot_merge
        self.text_classes = text_classes
        self.text_loss_average = text_loss_average
        self.loss_weight = loss_weight
        predict_alpha = alpha if predict_alpha is None else predict_alpha
        for name, value in (('alpha', alpha), ('predict_alpha',
                                               predict_alpha)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {value}')
        if text_loss not in TEXT_LOSSES:
            raise ValueError(f'text_loss must be one of {TEXT_LOSSES}, got '
                             f'{text_loss!r}')
        if fusion not in FUSIONS:
            raise ValueError(f'fusion must be one of {FUSIONS}, got '
                             f'{fusion!r}')
        if match_scale <= 0 or text_logit_scale <= 0 or (
                predict_match_scale is not None and predict_match_scale <= 0):
            raise ValueError('match_scale, predict_match_scale and '
                             'text_logit_scale must be > 0')
        self.matcher = MODELS.build(matcher)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.alpha = alpha
        self.predict_alpha = predict_alpha
        self.text_loss = text_loss
        self.kl_target_scale = kl_target_scale
        self.fusion = fusion
        self.predict_match_scale = predict_match_scale
        self.predict_mode = predict_mode
        self._check_mode(predict_mode)
        log_scale = torch.tensor(math.log(match_scale))
        if learnable_match_scale:
            self.log_match_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('log_match_scale', log_scale)
        self.uses_text = max(alpha, predict_alpha) > 0
        if self.uses_text:
            log_text = torch.tensor(math.log(text_logit_scale))
            if learnable_text_scale:
                self.log_text_scale = nn.Parameter(log_text)
            else:
                self.register_buffer('log_text_scale', log_text)
        else:
            # for text-only predictions (predict_mode='text' or a
            # per-call mode) without a trained temperature: CLIP's initial
            # one, not saved in checkpoints
            self.register_buffer(
                'log_text_scale',
                torch.tensor(math.log(text_logit_scale)),
                persistent=False)

    @property
    def uses_support(self) -> bool:
        """Whether predictions use the support videos (all modes but
        ``'text'``)."""
        return self.predict_mode != 'text'

    def text_logits(self, feats: Tensor, text: Tensor) -> Tensor:
        """Cosine logits of time-averaged features against class texts.

        Args:
            feats (Tensor): Frame features ``[V, T, D]``.
            text (Tensor): Class text features ``[N, D]``.

        Returns:
            Tensor: ``[V, N]``.
        """
        video = F.normalize(feats.mean(dim=1), dim=-1)  # [V, D]
        text = F.normalize(text, dim=-1)  # [N, D]
        scale = self.log_text_scale.exp().clamp(max=100)
        return scale * video @ text.t()

    def forward(self,
                support: Tensor,
                support_labels: Tensor,
                query: Tensor,
                text: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Compute the episode's logits.

        Args:
            support (Tensor): Support frame features ``[N*K, T, D]``.
            support_labels (Tensor): Episode-local labels ``[N*K]``.
            query (Tensor): Query frame features ``[Q, T, D]``.
            text (Tensor, optional): Class text features ``[N, D]``.

        Returns:
            dict: ``match`` logits ``[Q, N]``; with the text branch also
            ``q2t`` ``[Q, N]`` and ``s2t`` ``[N*K, N]``.
        """
        outputs = {}
        if self.uses_text:
            if text is None:
                raise ValueError(
                    'This head has a text branch (alpha > 0) but the '
                    'recognizer gave no class text features; set a '
                    'text_encoder in the model config.')
            outputs['q2t'] = self.text_logits(query, text)
            outputs['s2t'] = self.text_logits(support, text)
        num_classes = int(support_labels.max()) + 1
        if self.shot_merge == 'before_neck':
            support = merge_shots(support, support_labels, num_classes)
            support_labels = torch.arange(
                num_classes, device=support_labels.device)
        if self.neck is not None:
            support_text = (
                text[support_labels] if text is not None else None)
            support, query = self.neck(
                support, query, support_text=support_text)
        if self.shot_merge == 'after_neck':
            support = merge_shots(support, support_labels, num_classes)
            support_labels = torch.arange(
                num_classes, device=support_labels.device)
        logits = self.matcher(support, support_labels, query)  # [Q, N]
        outputs['match'] = logits * self.log_match_scale.exp()
        return outputs

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
        if self.alpha > 0 and self.text_classes == 'split':
            if split_text is None or split_targets is None:
                raise ValueError(
                    "text_classes='split' needs the text features of the "
                    'training classes; the recognizer gives them when the '
                    'episodes carry split_class_names.')
            outputs['s2t'] = self.text_logits(support, split_text)
            outputs['q2t'] = self.text_logits(query, split_text)
            support_labels = split_targets[support_labels]
            query_labels_text = split_targets[query_labels]
        else:
            query_labels_text = None
        return self.loss_by_feat(outputs, support_labels, query_labels,
                                 query_labels_text)

    def _text_loss(self, logits: Tensor, labels: Tensor) -> Tensor:
        if self.text_loss == 'kl':
            return kl_to_onehot(logits, labels, self.kl_target_scale)
        return F.cross_entropy(logits, labels)

    def loss_by_feat(
            self,
            outputs: Dict[str, Tensor],
            support_labels: Tensor,
            query_labels: Tensor,
            query_labels_text: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Weighted losses from the outputs of :meth:`forward`
        (``support_labels`` and ``query_labels_text`` index the columns of
        the text logits; ``query_labels_text`` defaults to
        ``query_labels``)."""
        losses = {}
        loss_q2s = F.cross_entropy(outputs['match'], query_labels)
        losses['loss_q2s'] = self.loss_weight * (1 - self.alpha) * loss_q2s
        with torch.no_grad():
            losses['acc_q2s'] = (outputs['match'].argmax(1) ==
                                 query_labels).float().mean()
        if self.alpha > 0:
            if query_labels_text is None:
                query_labels_text = query_labels
            if self.text_loss_average == 'video':
                loss_text = self._text_loss(
                    torch.cat([outputs['s2t'], outputs['q2t']]),
                    torch.cat([support_labels, query_labels_text]))
            else:
                loss_text = (
                    self._text_loss(outputs['s2t'], support_labels) +
                    self._text_loss(outputs['q2t'], query_labels_text)) / 2
            losses['loss_text'] = self.loss_weight * self.alpha * loss_text
        return losses

    def predict(self,
                support: Optional[Tensor],
                support_labels: Optional[Tensor],
                query: Tensor,
                text: Optional[Tensor] = None,
                mode: Optional[str] = None) -> Tensor:
        """Class probabilities of the queries ``[Q, N]``.

        Arguments as in :meth:`forward`, plus ``mode`` (one of
        ``PREDICT_MODES``) to override ``predict_mode`` for this call.
        In the ``'text'`` mode only ``query`` and ``text`` are used
        (``support`` and ``support_labels`` may be None).
        """
        mode = self._check_mode(mode)
        if mode == 'text':
            if text is None:
                raise ValueError(
                    'Text-only prediction scores queries against the '
                    'class texts, but the recognizer gave no class text '
                    'features; set a text_encoder in the model config.')
            # the q2t logits of forward(), without the support videos
            return self.predict_by_feat(
                dict(q2t=self.text_logits(query, text)), mode)
        if support is None:
            raise ValueError(f'predict_mode={mode!r} needs support '
                             "features; only 'text' works without them")
        return self.predict_by_feat(
            self(support, support_labels, query, text), mode)

    def _check_mode(self, mode: Optional[str]) -> str:
        """``mode``, or ``predict_mode`` when None; checked."""
        mode = self.predict_mode if mode is None else mode
        if mode not in PREDICT_MODES:
            raise ValueError(f'predict_mode must be one of {PREDICT_MODES}, '
                             f'got {mode!r}')
        return mode

    def predict_by_feat(self,
                        outputs: Dict[str, Tensor],
                        mode: Optional[str] = None) -> Tensor:
        """Probabilities from the outputs of :meth:`forward`, as ``mode``
        (default: ``predict_mode``) says: the matcher's and the text
        branch's fused, the matcher's alone or the text branch's alone."""
        mode = self._check_mode(mode)
        if mode == 'text':
            return F.softmax(outputs['q2t'], dim=1)
        match = outputs['match']
        if self.predict_match_scale is not None:
            # undo the training scale, apply the prediction one
            match = match * (self.predict_match_scale /
                             self.log_match_scale.exp())
        alpha = self.predict_alpha if mode == 'fused' else 0.0
        if alpha > 0 and self.fusion == 'geometric':
            log_probs = (
                alpha * F.log_softmax(outputs['q2t'], dim=1) +
                (1 - alpha) * F.log_softmax(match, dim=1))
            return F.softmax(log_probs, dim=1)
        probs = F.softmax(match, dim=1)
        if alpha > 0:
            probs = (alpha * F.softmax(outputs['q2t'], dim=1) +
                     (1 - alpha) * probs)
        return probs
