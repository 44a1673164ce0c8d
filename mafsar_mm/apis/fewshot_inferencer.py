"""Few-shot inference on a user's own videos.

A support set (a few labelled videos per class, with readable class names)
and some query videos go through a trained few-shot recognizer; each query
gets its classes ranked by score. Example::

    from mafsar_mm.apis import FewShotInferencer

    inferencer = FewShotInferencer(
        'configs/mafsar/mafsar_vit-tiny_5w1s_synthetic.py',
        'work_dirs/quickstart/iter_600.pth')
    results = inferencer(
        {'juggling': ['a.mp4', 'b.mp4'], 'dribbling': ['c.mp4']},
        ['query.mp4'])
    results[0]['ranking']  # [('juggling', 0.83), ('dribbling', 0.17)]
"""
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from torch import Tensor

from .support_checks import (check_class_names, check_support,
                             warn_queries_in_support)
from .support_sources import support_from_dir, support_from_list

SupportSpec = Union[str, Dict[str, Sequence[str]]]


class FewShotInferencer:
    """Rank the support classes for each query video.

    The model is built from an MMEngine config (after ``import
    mafsar_mm``), the weights are loaded with MMEngine's checkpoint
    loaders (see :meth:`_load_weights`) and videos are decoded with the
    config's test pipeline (``cfg.test_dataloader.dataset.pipeline``).
    Videos are encoded by the model's ``encode_clips`` (support videos
    with their class text, queries without) and scored by its
    ``predict_by_feat``, the path of the test loops. Classes may have
    different numbers of shots, or none at all (zero-shot, from the class
    names alone).

    Args:
        config (str | Config | dict): Config file or object.
        checkpoint (str, optional): Checkpoint file. Defaults to None
            (the model as built by the config: random adapters, which is
            only useful for tests).
        device (str): Torch device. Defaults to 'cpu'.
        batch_size (int): Videos per encoder pass. Defaults to 8.
        seed (int): Seed of the pipeline's random generators (the test
            pipeline is normally deterministic). Defaults to 0.
    """

    def __init__(self,
                 config: Union[str, Config, dict],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 batch_size: int = 8,
                 seed: int = 0) -> None:
        from mmaction.registry import MODELS, TRANSFORMS

        import mafsar_mm  # noqa: F401 (registers the modules)
        if isinstance(config, str):
            config = Config.fromfile(config)
        elif isinstance(config, dict) and not isinstance(config, Config):
            config = Config(config)
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.cfg = config
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.seed = seed
        pipeline = self._test_pipeline(config)
        #: Fewest frames a video needs, as for the test dataset.
        self.min_frames = int(
            config.test_dataloader.dataset.get('min_frames', 1))
        init_default_scope(config.get('default_scope', 'mmaction'))
        self.pipeline = Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline
        ])
        self.model = MODELS.build(config.model)
        if checkpoint is not None:
            self._load_weights(checkpoint)
        else:
            print_log(
                'FewShotInferencer: no checkpoint given; using the model as '
                'built by the config (untrained adapters).',
                logger='current',
                level=30)
        self.model.to(self.device).eval()

    def _load_weights(self, checkpoint: str) -> None:
        """Load a checkpoint into the model.

        Uses :func:`mafsar_mm.engine.load_model_checkpoint` when the
        package has it (slim checkpoints without the frozen CLIP, key
        checks), else ``mmengine.runner.load_checkpoint``; local files go
        through our safe loader either way.
        """
        from mafsar_mm import engine
        load = getattr(engine, 'load_model_checkpoint', None)
        if load is not None:
            load(self.model, checkpoint, map_location='cpu')
        else:
            load_checkpoint(self.model, checkpoint, map_location='cpu')

    @staticmethod
    def _test_pipeline(cfg: Config) -> list:
        """``cfg.test_dataloader.dataset.pipeline``, or a clear error."""
        try:
            pipeline = cfg.test_dataloader.dataset.pipeline
        except (AttributeError, KeyError):
            pipeline = None
        if not pipeline:
            raise ValueError(
                'The config has no test pipeline '
                '(cfg.test_dataloader.dataset.pipeline); the inferencer '
                'decodes videos with it. Use a config with a '
                'test_dataloader, e.g. one from configs/mafsar/.')
        return list(pipeline)

    def load_clip(self, path: str) -> Tensor:
        """Decode one video with the test pipeline.

        Args:
            path (str): Video file.

        Returns:
            Tensor: uint8 clip ``[C, T, H, W]``.

        Raises:
            FileNotFoundError: If ``path`` does not exist.
            BadVideoError: If the video cannot be decoded or has fewer
                frames than the test dataset's ``min_frames`` (the
                dataset's check and message; a ``RuntimeError``).
        """
        from mafsar_mm.datasets import decode_clip
        if not osp.isfile(path):
            raise FileNotFoundError(f'Video not found: {path}')
        # the dataset's checks and message (BadVideoError, min_frames)
        imgs = decode_clip(self.pipeline, path, self.seed, self.min_frames)
        if imgs.dim() == 5 and imgs.shape[0] == 1:
            imgs = imgs[0]  # [1, C, T, H, W] -> [C, T, H, W]
        if imgs.dim() != 4:
            raise ValueError(
                'The test pipeline must give one NCTHW clip per video '
                f"(FormatShape('NCTHW'), num_clips=1); got shape "
                f'{tuple(imgs.shape)} for {path}')
        return imgs

    def _load_clips(self, paths: Sequence[str]) -> Tensor:
        """Decode and stack videos: uint8 ``[V, C, T, H, W]``."""
        clips = [self.load_clip(p) for p in paths]
        shapes = {tuple(c.shape) for c in clips}
        if len(shapes) != 1:
            raise ValueError(
                'The test pipeline gave clips of different shapes '
                f'{sorted(shapes)}; end it with a fixed-size crop or '
                'resize.')
        return torch.stack(clips)

    def preprocess(self, clips: Tensor) -> Tensor:
        """Normalise uint8 clips ``[V, C, T, H, W]`` with the model's data
        preprocessor and move them to the device (float, same shape)."""
        data = self.model.data_preprocessor(dict(inputs=[clips]), False)
        return data['inputs'][0]

    def _encode(
            self,
            clips: Tensor,
            role: str,
            class_names: Optional[Sequence[str]] = None) -> Optional[Tensor]:
        """Encoder features ``[V, T, D']`` in batches of videos, from the
        model's :meth:`encode_clips` (None when the model's predictions
        do not use the role).

        Args:
            clips (Tensor): uint8 ``[V, C, T, H, W]``.
            role (str): ``'support'`` or ``'query'``.
            class_names (Sequence[str], optional): Each support video's
                class name. Defaults to None.
        """
        feats = []
        for start in range(0, len(clips), self.batch_size):
            stop = start + self.batch_size
            names = None if class_names is None else class_names[start:stop]
            batch = self.model.encode_clips(
                clips[start:stop], names, roles=(role, ))
            if role not in batch:  # the model's predictions do not use it
                return None
            feats.append(batch[role])
        return torch.cat(feats)

    @staticmethod
    def parse_support(support: SupportSpec) -> 'OrderedDict[str, List[str]]':
        """Turn any accepted support form into ``{class: [paths]}``.

        Args:
            support (str | dict[str, Sequence[str]]): A dict of class name
                -> video paths, a directory with one sub-folder per class,
                or a list file of ``<path><TAB><class name>`` lines.

        Returns:
            OrderedDict[str, list[str]]: The checked support set.
        """
        if isinstance(support, (str, os.PathLike)):
            support = str(support)
            if osp.isdir(support):
                support = support_from_dir(support)
            elif osp.isfile(support):
                support = support_from_list(support)
            else:
                raise FileNotFoundError(
                    f'Support set not found: {support} (expected a '
                    'directory with one sub-folder per class or a list '
                    'file of `<path><TAB><class name>` lines).')
        elif isinstance(support, dict):
            support = OrderedDict(
                (str(name),
                 [videos] if isinstance(videos, str) else list(videos))
                for name, videos in support.items())
        else:
            raise TypeError('support must be a dict, a directory or a '
                            f'list file, got {type(support).__name__}')
        check_support(support)
        return support

    @torch.no_grad()
    def __call__(
            self,
            support: Optional[SupportSpec],
            queries: Union[str, Sequence[str]],
            zero_shot_classes: Optional[Sequence[str]] = None) -> List[dict]:
        """Rank the classes for every query.

        With support videos the model's prediction (``predict_mode`` of
        its head, by default the fused text and matching scores) ranks
        the support classes. Without (``zero_shot_classes``, or every
        support class mapped to an empty list) the classes are ranked
        from their names alone: the head's text branch (``p_Q2T``,
        docs/method.md), as ``tools/test.py --text-only``.

        Args:
            support (str | dict[str, Sequence[str]], optional): See
                :meth:`parse_support`; None with ``zero_shot_classes``.
            queries (str | Sequence[str]): Query video paths.
            zero_shot_classes (Sequence[str], optional): Class names to
                recognise without support videos. Defaults to None.

        Returns:
            list[dict]: One dict per query, in order: ``query`` (the
            path), ``ranking`` (``[(class name, score), ...]``, all
            classes, highest score first; scores are the head's
            probabilities and sum to 1) and ``pred_class``.
        """
        class_names = self._zero_shot_classes(support, zero_shot_classes)
        zero_shot = class_names is not None
        if not zero_shot:
            support = self.parse_support(support)
            class_names = list(support)
        if isinstance(queries, (str, os.PathLike)):
            queries = [queries]
        queries = [str(q) for q in queries]
        if not queries:
            raise ValueError('No query videos given.')
        query_clips = self._load_clips(queries)
        if zero_shot:
            support_feats = labels = None
            mode = 'text'
        else:
            paths = [p for name in class_names for p in support[name]]
            names = [name for name in class_names for _ in support[name]]
            labels = torch.tensor([
                label for label, name in enumerate(class_names)
                for _ in support[name]
            ])  # [S]
            warn_queries_in_support(queries, support)
            support_clips = self._load_clips(paths)
            if support_clips.shape[1:] != query_clips.shape[1:]:
                raise ValueError('Support and query clips differ in shape: '
                                 f'{tuple(support_clips.shape[1:])} vs '
                                 f'{tuple(query_clips.shape[1:])}.')
            support_feats = self._encode(support_clips, 'support', names)
            mode = None
        query_feats = self._encode(query_clips, 'query')
        scores = self.model.predict_by_feat(
            support_feats, labels, query_feats, class_names,
            mode=mode)  # [Q, N]
        scores = scores.float().cpu()
        return [
            self._result(path, row, class_names)
            for path, row in zip(queries, scores)
        ]

    @staticmethod
    def _zero_shot_classes(
            support: Optional[SupportSpec],
            zero_shot_classes: Optional[Sequence[str]]) -> Optional[List[str]]:
        """The classes of a zero-shot call, or None with support videos.

        Zero-shot: ``zero_shot_classes`` given (``support`` must then be
        None or empty), or ``support`` a dict whose classes all map to no
        video.
        """
        if zero_shot_classes is not None:
            if support:
                raise ValueError(
                    'Give either support videos or zero_shot_classes, not '
                    'both (zero-shot prediction does not use support '
                    'videos).')
            if isinstance(zero_shot_classes, str):
                zero_shot_classes = [zero_shot_classes]
            names = [str(n) for n in zero_shot_classes]
        elif isinstance(support, dict) and support and all(
                not isinstance(videos, str) and len(videos) == 0
                for videos in support.values()):
            names = [str(n) for n in support]
        elif support is None:
            raise ValueError('Give support videos or zero_shot_classes.')
        else:
            return None
        check_class_names(names)
        if len(names) < 2:
            raise ValueError('Zero-shot prediction needs at least 2 '
                             f'classes, got {len(names)} ({names}).')
        return names

    @staticmethod
    def _result(path: str, scores: Tensor, class_names: List[str]) -> dict:
        """The result dict of one query."""
        order = torch.argsort(scores, descending=True, stable=True)
        ranking = [(class_names[i], float(scores[i])) for i in order]
        return dict(query=path, ranking=ranking, pred_class=ranking[0][0])
