"""The few-shot recognizer: text, backbone and head over episodes."""
import inspect
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModel
from torch import Tensor

from mafsar_mm.structures import EpisodeDataSample
from ..clip import share_clip_models


def _matcher_follows(head: dict, backbone: torch.nn.Module) -> dict:
    """The head config, its matcher's ``in_channels`` (frame feature
    size) and ``seq_len`` (frames) taken from the backbone when the
    matcher takes them and they are not given or None, so that
    ``--cfg-options model.head.matcher.type=TRXMatcher`` alone fits any
    backbone."""
    matcher = head.get('matcher') if isinstance(head, dict) else None
    if not isinstance(matcher, dict) or not isinstance(
            matcher.get('type'), str):
        return head
    cls = MODELS.get(matcher['type'])
    if cls is None:  # the head's build says so
        return head
    params = inspect.signature(cls.__init__).parameters
    follow = dict(
        in_channels=getattr(backbone, 'output_dim', None),
        seq_len=getattr(backbone, 'num_frames', None))
    filled = {
        key: value
        for key, value in follow.items() if key in params
        and value is not None and matcher.get(key) is None
    }
    if not filled:
        return head
    return dict(head, matcher=dict(matcher, **filled))


@MODELS.register_module()
class FewShotRecognizer(BaseModel):
    """Episodic recognizer for N-way K-shot action recognition.

    Support videos are encoded with their class text (for backbones that
    read it, e.g. MA-FSAR's ``CLIPViTFgMA``); query videos never see text.
    The head turns frame features into per-query class scores. Every
    prediction (:meth:`predict`, the cached evaluation loops, the
    inferencer) goes through :meth:`predict_by_feat`; the cache and the
    inferencer encode raw clips with :meth:`encode_clips`.

    Args:
        backbone (dict): Video encoder, ``backbone(imgs [V, C, T, H, W],
            text [V, D'] | None) -> [V, T, D']``.
        head (dict): :class:`FewShotHead` config. A matcher that takes
            ``in_channels`` / ``seq_len`` and is not given them (or None)
            gets the backbone's ``output_dim`` / ``num_frames``.
        text_encoder (dict, optional): Class-name encoder,
            ``text_encoder(names) -> [N, D']``. Defaults to None. When it
            and the backbone name the same CLIP weights (equal ``clip``
            dicts, ``pretrained`` set), that CLIP is built and loaded once
            and each keeps its half (:func:`.share_clip_models`).
        text_to_backbone (bool): Give support videos their class text in
            the backbone. Defaults to True.
        data_preprocessor (dict, optional): Defaults to
            ``dict(type='FewShotDataPreprocessor')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 text_encoder: Optional[dict] = None,
                 text_to_backbone: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='FewShotDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # MMAction2's registry, so the model builds outside a Runner
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        with share_clip_models():  # same weights: one CLIP, two halves
            self.backbone = MODELS.build(backbone)
            self.text_encoder = (
                MODELS.build(text_encoder)
                if text_encoder is not None else None)
        self.text_to_backbone = text_to_backbone
        self.head = MODELS.build(_matcher_follows(head, self.backbone))
        if self.text_encoder is None and not self.head.uses_support:
            raise ValueError(
                "The head predicts from the class texts alone (predict_mode="
                "'text') but the model has no text_encoder.")

    def encode_text(self, class_names: Sequence[str]) -> Optional[Tensor]:
        """Class text features ``[N, D']``, or None without an encoder."""
        if self.text_encoder is None:
            return None
        return self.text_encoder(list(class_names))

    @property
    def support_reads_text(self) -> bool:
        """Whether a support video's features depend on its class text
        (else both branches give the same features)."""
        return (self.text_to_backbone and self.text_encoder is not None
                and getattr(self.backbone, 'reads_text', True))

    def encode_videos(self,
                      imgs: Tensor,
                      class_names: Optional[Sequence[str]] = None,
                      text: Optional[Tensor] = None) -> Tensor:
        """Frame features of normalised videos.

        Args:
            imgs (Tensor): ``[V, C, T, H, W]``, after the data
                preprocessor.
            class_names (Sequence[str], optional): Each video's class name
                for the support branch (the backbone reads the class text
                when it can); None for the query branch (no text).
                Defaults to None.
            text (Tensor, optional): Each video's class text features
                ``[V, D']``, already encoded (instead of ``class_names``).
                Defaults to None.

        Returns:
            Tensor: ``[V, T, D']``.
        """
        if not self.support_reads_text:
            text = None
        elif text is None and class_names is not None:
            if len(class_names) != len(imgs):
                raise ValueError(f'{len(imgs)} videos but '
                                 f'{len(class_names)} class names')
            text = self.encode_text(class_names)  # [V, D']
        return self.backbone(imgs, text)

    @torch.no_grad()
    def encode_clips(self,
                     clips: Tensor,
                     class_names: Optional[Sequence[str]] = None,
                     roles: Sequence[str] = ('query', 'support')
                     ) -> Dict[str, Tensor]:
        """Features of raw clips for prediction, in the roles asked for.

        Runs the data preprocessor, then one encoder pass per distinct
        branch: the support role is left out when predictions do not use
        support videos (the head's ``predict_mode='text'``) and shares the
        query features when they do not depend on the class text.

        Args:
            clips (Tensor): uint8 ``[V, C, T, H, W]``.
            class_names (Sequence[str], optional): Each video's class
                name; needed for the support role. Defaults to None.
            roles (Sequence[str]): ``'query'`` and/or ``'support'``.
                Defaults to both.

        Returns:
            dict[str, Tensor]: ``[V, T, D']`` features per role returned
            (the same tensor object when the branches coincide).
        """
        unknown = set(roles) - {'query', 'support'}
        if unknown:
            raise ValueError(f'Unknown roles {sorted(unknown)}; use '
                             "'query' and/or 'support'")
        want_support = 'support' in roles and self.head.uses_support
        if want_support and class_names is None:
            raise ValueError('The support role needs the class names')
        imgs = self.data_preprocessor(dict(inputs=[clips]), False)['inputs']
        imgs = imgs[0]
        feats = {}
        if 'query' in roles or (want_support and
                                not self.support_reads_text):
            feats['query'] = self.encode_videos(imgs)
        if want_support:
            feats['support'] = (
                self.encode_videos(imgs, class_names)
                if self.support_reads_text else feats['query'])
        if 'query' not in roles:
            feats.pop('query', None)
        return feats

    def predict_by_feat(self,
                        support: Optional[Tensor],
                        support_labels: Optional[Tensor],
                        query: Tensor,
                        class_names: Sequence[str],
                        mode: Optional[str] = None,
                        text: Optional[Tensor] = None) -> Tensor:
        """Scores of an episode from its encoder features.

        The one prediction path: :meth:`predict`, the cached evaluation
        loops and the inferencer all end here.

        Args:
            support (Tensor, optional): Support features ``[S, T, D']``
                (support branch); None when the head predicts from text
                alone.
            support_labels (Tensor, optional): Episode-local labels
                ``[S]`` in ``[0, N)``.
            query (Tensor): Query features ``[Q, T, D']`` (query branch).
                Features are moved to the model's device.
            class_names (Sequence[str]): The N class names of the episode.
            mode (str, optional): Override the head's ``predict_mode``
                for this call (``'text'``: zero-shot from the class names
                alone). Defaults to None.
            text (Tensor, optional): The class text features ``[N, D']``
                when the caller has them (``extract_feat`` does); else
                encoded from ``class_names``. Defaults to None.

        Returns:
            Tensor: Class probabilities ``[Q, N]``.
        """
        device = self.data_preprocessor.device
        if support is not None:
            support = support.to(device)
            support_labels = support_labels.to(device)
        if text is None:
            text = self.encode_text(class_names)  # [N, D'] or None
        return self.head.predict(support, support_labels, query.to(device),
                                 text, mode)

    def extract_feat(self,
                     inputs: Tensor,
                     data_sample: EpisodeDataSample,
                     with_support: bool = True) -> Dict[str, Tensor]:
        """Features of one episode; the class texts are encoded once and
        each support video reads its class's row.

        Args:
            inputs (Tensor): ``[N*(K+Q), C, T, H, W]``, support first.
            data_sample (EpisodeDataSample): The episode.
            with_support (bool): Encode the support videos. Defaults to
                True.

        Returns:
            dict: ``support`` ``[N*K, T, D']`` (None without
            ``with_support``), ``support_labels``, ``query``
            ``[N*Q, T, D']`` and ``text`` ``[N, D']`` or None.
        """
        num_support = data_sample.num_support
        support_labels = data_sample.support_labels
        class_names = list(data_sample.class_names)
        text = self.encode_text(class_names)  # [N, D'] or None
        support = None
        if with_support:
            support = self.encode_videos(
                inputs[:num_support],
                text=text[support_labels] if text is not None else None)
        query = self.encode_videos(inputs[num_support:])
        return dict(
            support=support,
            support_labels=support_labels,
            query=query,
            text=text)

    def split_text(self, sample: EpisodeDataSample) -> Dict[str, Tensor]:
        """Text features of all classes of the episode's split and the
        split index of each episode class, for a head whose text loss runs
        over the training classes (``text_classes='split'``); empty
        otherwise.

        Args:
            sample (EpisodeDataSample): A training episode; its metainfo
                must hold ``split_class_names`` (FewShotVideoDataset sets
                it).

        Returns:
            dict: ``split_text`` ``[C, D']`` and ``split_targets`` ``[N]``,
            or an empty dict.
        """
        if getattr(self.head, 'text_classes', 'episode') != 'split' or \
                self.text_encoder is None:
            return {}
        names = sample.metainfo.get('split_class_names')
        if names is None:
            raise ValueError(
                "text_classes='split' needs each training episode's "
                'split_class_names (the class names of the training split); '
                'FewShotVideoDataset sets them.')
        index = {name: i for i, name in enumerate(names)}
        missing = [n for n in sample.class_names if n not in index]
        if missing:
            raise ValueError(f'Episode classes {missing} are not in the '
                             'split_class_names of the episode.')
        targets = torch.tensor([index[n] for n in sample.class_names],
                               device=sample.query_labels.device)
        return dict(
            split_text=self.encode_text(names), split_targets=targets)

    def loss(self, inputs: Tensor,
             data_samples: List[EpisodeDataSample]) -> Dict[str, Tensor]:
        """Mean of the head's losses over the episodes of the batch.

        Args:
            inputs (Tensor): ``[B, N*(K+Q), C, T, H, W]``.
            data_samples (list[EpisodeDataSample]): B episodes.
        """
        totals: Dict[str, Tensor] = {}
        for episode, sample in zip(inputs, data_samples):
            feats = self.extract_feat(episode, sample)
            losses = self.head.loss(
                feats['support'], feats['support_labels'], feats['query'],
                sample.query_labels, feats['text'],
                **self.split_text(sample))
            for key, value in losses.items():
                totals[key] = totals.get(key, 0) + value / len(data_samples)
        return totals

    def predict(self, inputs: Tensor,
                data_samples: List[EpisodeDataSample]
                ) -> List[EpisodeDataSample]:
        """Set ``pred_scores`` ``[N*Q, N]`` and ``pred_labels`` on each
        episode and return them."""
        for episode, sample in zip(inputs, data_samples):
            feats = self.extract_feat(
                episode, sample, with_support=self.head.uses_support)
            scores = self.predict_by_feat(
                feats['support'], feats['support_labels'], feats['query'],
                sample.class_names, text=feats['text'])
            sample.pred_scores = scores
            sample.pred_labels = scores.argmax(dim=1)
        return data_samples

    def _forward(self, inputs: Tensor,
                 data_samples: List[EpisodeDataSample]) -> List[Tensor]:
        """Raw head outputs (logits) per episode, for analysis."""
        outputs = []
        for episode, sample in zip(inputs, data_samples):
            feats = self.extract_feat(episode, sample)
            outputs.append(
                self.head(feats['support'], feats['support_labels'],
                          feats['query'], feats['text']))
        return outputs

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[EpisodeDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict, List]:
        """Dispatch to :meth:`loss`, :meth:`predict` or :meth:`_forward`.

        Args:
            inputs (Tensor): ``[B, N*(K+Q), C, T, H, W]``.
            data_samples (list[EpisodeDataSample]): The B episodes; needed
                in every mode (they say which videos are supports).
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.
                Defaults to 'tensor'.
        """
        if data_samples is None:
            raise ValueError('FewShotRecognizer needs the episodes\' '
                             'data_samples in every mode')
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f'Invalid mode {mode!r}; supported modes are '
                         "'loss', 'predict' and 'tensor'")
