"""MA-FSAR's head (Figure 2 after the encoders): prototype module,
matching, text branch, losses and score fusion, each a registered part."""
import math
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from mafsar_mm.utils.errors import InputError

PREDICT_MODES = ('fused', 'match', 'text')

#: Arguments the head had before it was built from parts, and where each
#: went (so an old config fails with one line that says what to write).
MOVED_ARGUMENTS = {
    'loss_weight': "the loss configs' loss_weight (match_loss=dict(type="
    "'CrossEntropyLoss', loss_weight=...))",
    'kl_target_scale': "text_loss=dict(type='OneHotKLLoss', "
    'target_scale=...)',
    'predict_match_scale': "fusion=dict(type=..., match_scale=...)",
    'text_classes': "type='CLIPFSARHead'",
    'text_loss_average': "type='CLIPFSARHead'",
}


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


def _build_loss(name: str, cfg: Optional[dict]) -> Optional[nn.Module]:
    """Build a loss config of the head (None stays None), checked."""
    if cfg is None:
        return None
    if not isinstance(cfg, dict):
        raise InputError(
            f'{name} must be a loss config such as dict(type='
            "'OneHotKLLoss') or dict(type='CrossEntropyLoss'), got "
            f'{cfg!r}')
    loss = MODELS.build(cfg)
    weight = getattr(loss, 'loss_weight', 1.0)
    if not weight > 0:
        raise InputError(f'{name} loss_weight must be > 0, got {weight}')
    return loss


@MODELS.register_module()
class FewShotHead(BaseModule):
    """MA-FSAR's head: scores an episode's queries against its support.

    ``support``/``query`` are the encoder's frame features. The parts of
    Figure 2 (docs/method.md), each built from ``dict(type=...)``:

    * ``neck``, the prototype module (TPCM, ``necks/tpcm.py``), refines
      the support features with their class text and the query features;
    * ``matcher`` (OTAM, ``matchers/otam_matcher.py``) gives the logits
      of p_Q2S ``[Q, N]`` (minus a distance), times ``match_scale``;
      ``match_loss`` (cross-entropy) is L_Q2S;
    * with ``alpha > 0`` the text branch: cosine logits of the
      time-averaged *encoder* features (before the neck) against the
      episode's class texts, times a learnable temperature (p_S2T,
      p_Q2T); ``text_loss`` (ActionCLIP's KL,
      ``losses/one_hot_kl_loss.py``) is L_S2T and L_Q2T;
    * ``fusion`` (``score_fusion.py``) makes the prediction::

        L = alpha * (L_S2T + L_Q2T) / 2 + (1 - alpha) * L_Q2S
        p = alpha * p_Q2T + (1 - alpha) * p_Q2S

    ``predict_alpha`` replaces ``alpha`` in the prediction when given
    (the paper uses one alpha; ``tools/analysis/sweep_fusion_alpha.py``
    sweeps it). ``predict_mode`` picks what the prediction uses:
    ``'fused'`` (the formula above), ``'match'`` (``p_Q2S`` alone) or
    ``'text'`` (``p_Q2T`` alone: zero-shot, no support video needed).
    CLIP-FSAR's recipe switches live in :class:`CLIPFSARHead`.

    Args:
        matcher (dict): Config of the matcher (``MODELS``).
        neck (dict, optional): Config of the prototype module, called as
            ``neck(support, query, support_text=...)``. Defaults to None.
        alpha (float): Weight of the text branch in the loss, in [0, 1].
            Defaults to 0.0 (no text branch).
        predict_alpha (float, optional): Weight of the text branch in the
            prediction. Defaults to None (same as ``alpha``).
        match_loss (dict): L_Q2S on the matching logits. Defaults to
            ``dict(type='CrossEntropyLoss')`` (MMAction2's).
        text_loss (dict, optional): L_S2T and L_Q2T on the text logits.
            Defaults to ``dict(type='OneHotKLLoss')``.
        fusion (dict): How the prediction fuses the text and matching
            probabilities. Defaults to ``dict(type='ArithmeticFusion')``.
        match_scale (float): Multiplies the matcher's logits before the
            softmax and the loss. Defaults to 1.0.
        learnable_match_scale (bool): Learn ``match_scale`` (in log
            space). Defaults to False.
        text_logit_scale (float): Initial temperature of the text logits
            (CLIP's initial ``1 / 0.07``). Defaults to ``1 / 0.07``.
        learnable_text_scale (bool): Learn the text temperature (log
            space, capped at 100 as in CLIP). Defaults to True.
        shot_merge (str): How K shots make one class score:
            ``'distance'`` (the matcher averages its query-support
            distances over the shots, as OTAM's ``CNN_OTAM``) or
            ``'after_neck'`` (class-mean prototypes: the support features
            of a class averaged frame by frame after the prototype
            module, before the matcher). Defaults to 'distance'.
        predict_mode (str): One of ``PREDICT_MODES``. Defaults to 'fused'.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    #: Values of ``shot_merge`` this head supports.
    SHOT_MERGES = ('distance', 'after_neck')

    def __init__(self,
                 matcher: dict,
                 neck: Optional[dict] = None,
                 alpha: float = 0.0,
                 predict_alpha: Optional[float] = None,
                 match_loss: dict = dict(type='CrossEntropyLoss'),
                 text_loss: Optional[dict] = dict(type='OneHotKLLoss'),
                 fusion: dict = dict(type='ArithmeticFusion'),
                 match_scale: float = 1.0,
                 learnable_match_scale: bool = False,
                 text_logit_scale: float = 1 / 0.07,
                 learnable_text_scale: bool = True,
                 shot_merge: str = 'distance',
                 predict_mode: str = 'fused',
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        self._check_kwargs(kwargs)
        if shot_merge not in self.SHOT_MERGES:
            hint = (" ('before_neck' is CLIP-FSAR's MERGE_BEFORE: "
                    "type='CLIPFSARHead')"
                    if shot_merge == 'before_neck' else '')
            raise InputError(f'shot_merge must be one of {self.SHOT_MERGES}'
                             f', got {shot_merge!r}{hint}')
        self.shot_merge = shot_merge
        predict_alpha = alpha if predict_alpha is None else predict_alpha
        for name, value in (('alpha', alpha), ('predict_alpha',
                                               predict_alpha)):
            if not 0.0 <= value <= 1.0:
                raise InputError(f'{name} must be in [0, 1], got {value}')
        if match_scale <= 0 or text_logit_scale <= 0:
            raise InputError('match_scale and text_logit_scale must be > 0')
        if not isinstance(fusion, dict):
            raise InputError('fusion must be a config such as dict(type='
                             "'ArithmeticFusion') or dict(type="
                             f"'GeometricFusion'), got {fusion!r}")
        self.matcher = MODELS.build(matcher)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.match_loss = _build_loss('match_loss', match_loss)
        self.text_loss = _build_loss('text_loss', text_loss)
        self.fusion = MODELS.build(fusion)
        self.alpha = alpha
        self.predict_alpha = predict_alpha
        if self.trains_text and self.text_loss is None:
            raise InputError('alpha > 0 weights a text loss, but text_loss '
                             'is None')
        self.predict_mode = predict_mode
        self._check_mode(predict_mode)
        log_scale = torch.tensor(math.log(match_scale))
        if learnable_match_scale:
            self.log_match_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('log_match_scale', log_scale)
        self.uses_text = self.trains_text or predict_alpha > 0
        log_text = torch.tensor(math.log(text_logit_scale))
        if self.uses_text and learnable_text_scale:
            self.log_text_scale = nn.Parameter(log_text)
        else:
            # a fixed temperature; without a text branch it serves
            # text-only predictions (predict_mode='text' or a per-call
            # mode) with CLIP's initial one and is not saved in checkpoints
            self.register_buffer(
                'log_text_scale', log_text, persistent=self.uses_text)

    def _check_kwargs(self, kwargs: dict) -> None:
        """One clear error for arguments this head does not take."""
        if not kwargs:
            return
        hints = [
            f'{k} -> {MOVED_ARGUMENTS[k]}' for k in kwargs
            if k in MOVED_ARGUMENTS
        ]
        raise InputError(f'{type(self).__name__} got unexpected arguments '
                         f'{sorted(kwargs)}' +
                         (f" (moved: {'; '.join(hints)})" if hints else ''))

    @property
    def trains_text(self) -> bool:
        """Whether the loss has a text term (``alpha > 0``)."""
        return self.alpha > 0

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

    def merge_before_neck(self, support: Tensor, support_labels: Tensor,
                          num_classes: int) -> tuple:
        """Support features and labels given to the prototype module
        (unchanged here; :class:`CLIPFSARHead` may merge the shots)."""
        return support, support_labels

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
                raise InputError(
                    'This head has a text branch (alpha > 0) but the '
                    'recognizer gave no class text features; set a '
                    'text_encoder in the model config.')
            outputs['q2t'] = self.text_logits(query, text)
            outputs['s2t'] = self.text_logits(support, text)
        num_classes = int(support_labels.max()) + 1
        support, support_labels = self.merge_before_neck(
            support, support_labels, num_classes)
        if self.neck is not None:
            support_text = (text[support_labels] if text is not None else None)
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
             text: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Losses of one episode; arguments as in :meth:`forward`, plus
        ``query_labels`` ``[Q]``."""
        outputs = self(support, support_labels, query, text)
        return self.loss_by_feat(outputs, support_labels, query_labels)

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
        loss_q2s = self.match_loss(outputs['match'], query_labels)
        losses['loss_q2s'] = (1 - self.alpha) * loss_q2s
        with torch.no_grad():
            losses['acc_q2s'] = (
                outputs['match'].argmax(1) == query_labels).float().mean()
        if self.trains_text:
            if query_labels_text is None:
                query_labels_text = query_labels
            loss_text = (self.text_loss(outputs['s2t'], support_labels) +
                         self.text_loss(outputs['q2t'], query_labels_text)) / 2
            losses['loss_text'] = self.alpha * loss_text
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
                raise InputError(
                    'Text-only prediction scores queries against the '
                    'class texts, but the recognizer gave no class text '
                    'features; set a text_encoder in the model config.')
            # the q2t logits of forward(), without the support videos
            return self.predict_by_feat(
                dict(q2t=self.text_logits(query, text)), mode)
        if support is None:
            raise InputError(f'predict_mode={mode!r} needs support '
                             "features; only 'text' works without them")
        return self.predict_by_feat(
            self(support, support_labels, query, text), mode)

    def _check_mode(self, mode: Optional[str]) -> str:
        """``mode``, or ``predict_mode`` when None; checked."""
        mode = self.predict_mode if mode is None else mode
        if mode not in PREDICT_MODES:
            raise InputError(f'predict_mode must be one of {PREDICT_MODES}, '
                             f'got {mode!r}')
        return mode

    def predict_by_feat(self,
                        outputs: Dict[str, Tensor],
                        mode: Optional[str] = None) -> Tensor:
        """Probabilities from the outputs of :meth:`forward`, as ``mode``
        (default: ``predict_mode``) says: the matcher's and the text
        branch's fused by ``fusion``, the matcher's alone or the text
        branch's alone."""
        mode = self._check_mode(mode)
        if mode == 'text':
            return F.softmax(outputs['q2t'], dim=1)
        alpha = self.predict_alpha if mode == 'fused' else 0.0
        return self.fusion(outputs['match'], outputs.get('q2t'), alpha,
                           self.log_match_scale.exp())
