"""Few-shot inference on a user's own videos, on MMEngine's
``BaseInferencer`` (as MMAction2's ``ActionRecogInferencer``).

The few-shot twist: the support set (a few labelled videos per class, with
readable class names; or class names alone, zero-shot) is given once, and
the query videos are the inputs. Each query gets its classes ranked by
score. Example::

    from mafsar_mm.apis import FewShotInferencer

    inferencer = FewShotInferencer(
        'configs/mafsar/mafsar_vit-tiny_5w1s_synthetic.py',
        'work_dirs/quickstart/iter_400.pth',
        support={'juggling': ['a.mp4', 'b.mp4'], 'dribbling': ['c.mp4']})
    results = inferencer(['query.mp4'])  # or inferencer(support, queries)
    results['predictions'][0]['ranking']
    # [('juggling', 0.83), ('dribbling', 0.17)]
"""
import os
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from torch import Tensor

from mafsar_mm.datasets.video_loading import ClipLoader
from .rankings import format_ranking, ranking_of
from .support_checks import (check_videos_exist, warn_queries_in_support,
                             zero_shot_class_names)
from .support_sources import (SupportSpec, parse_support, support_from_dir,
                              support_from_list)

__all__ = [
    'FewShotInferencer', 'format_ranking', 'support_from_dir',
    'support_from_list'
]


class FewShotInferencer(BaseInferencer):
    """Rank the support classes for each query video.

    The MMEngine inferencer steps: :meth:`preprocess` decodes the queries
    with the one :class:`ClipLoader` of the package (the config's test
    pipeline and the test dataset's ``min_frames``, the dataset's checks
    and messages) and stacks them in batches of ``batch_size``;
    :meth:`forward` normalises them (the model's data preprocessor),
    encodes them on the query branch and scores them against the support
    set with the model's ``predict_by_feat``, the path of the test loops;
    :meth:`visualize` gives each query's ranking as text and
    :meth:`postprocess` returns ``dict(predictions=..., visualization=...)``.

    The support set is encoded once when it is set (constructor,
    :meth:`set_support`, or the two-argument call ``inferencer(support,
    queries)``): each support video on the support branch with its class
    text, and the class texts themselves once per support set. Classes may
    have different numbers of shots, or none at all (zero-shot, from the
    class names alone).

    Args:
        config (str | Config | dict): Config file or object.
        checkpoint (str, optional): Checkpoint file. Defaults to None
            (the model as built by the config: random adapters, which is
            only useful for tests).
        device (str): Torch device. Defaults to 'cpu'.
        batch_size (int): Videos per encoder pass (queries and support).
            Defaults to 8.
        seed (int): Seed of the pipeline's random generators (the test
            pipeline is normally deterministic). Defaults to 0.
        support (str | dict, optional): The support set, see
            :meth:`set_support`. Defaults to None (set it later).
        zero_shot_classes (Sequence[str], optional): Class names to
            recognise without support videos. Defaults to None.
        scope (str): Registry scope. Defaults to 'mmaction'.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'show', 'return_vis', 'topk'}
    postprocess_kwargs: set = {'print_result'}

    def __init__(self,
                 config: Union[str, Config, dict],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 batch_size: int = 8,
                 seed: int = 0,
                 support: Optional[SupportSpec] = None,
                 zero_shot_classes: Optional[Sequence[str]] = None,
                 scope: str = 'mmaction') -> None:
        import mafsar_mm  # noqa: F401 (registers the modules)
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if isinstance(config, str):
            config = Config.fromfile(config)  # a clear FileNotFoundError
        self.batch_size = batch_size
        self.seed = seed
        self.device = torch.device(device)
        init_default_scope(scope)
        super().__init__(
            model=config,
            weights=checkpoint,
            device=device,
            scope=scope,
            show_progress=False)
        self.support: Optional['OrderedDict[str, List[str]]'] = None
        self.class_names: Optional[List[str]] = None
        self._support_state: Dict[str, Any] = {}
        if support is not None or zero_shot_classes is not None:
            self.set_support(support, zero_shot_classes)

    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str) -> torch.nn.Module:
        """Build the model from MMAction2's registry and load ``weights``
        with :func:`mafsar_mm.engine.load_model_checkpoint` when the package
        has it (slim checkpoints without the frozen CLIP, key checks,
        trusted MMEngine checkpoints under torch's ``weights_only``
        default), else with ``mmengine.runner.load_checkpoint``."""
        from mmaction.registry import MODELS

        from mafsar_mm import engine
        model = MODELS.build(cfg.model)
        if weights is None:
            print_log(
                'FewShotInferencer: no checkpoint given; using the model as '
                'built by the config (untrained adapters).',
                logger='current',
                level=30)
        else:
            load = getattr(engine, 'load_model_checkpoint', load_checkpoint)
            load(model, weights, map_location='cpu')
        return model.to(device).eval()

    def _init_pipeline(self, cfg: Config) -> ClipLoader:
        """The :class:`ClipLoader` of ``cfg.test_dataloader.dataset``
        (pipeline and ``min_frames``), or a clear error."""
        try:
            dataset = cfg.test_dataloader.dataset
            pipeline = dataset.pipeline
        except (AttributeError, KeyError):
            pipeline = None
        if not pipeline:
            raise ValueError(
                'The config has no test pipeline '
                '(cfg.test_dataloader.dataset.pipeline); the inferencer '
                'decodes videos with it. Use a config with a '
                'test_dataloader, e.g. one from configs/mafsar/.')
        #: Fewest frames a video needs, as for the test dataset.
        self.min_frames = int(dataset.get('min_frames', 1))
        return ClipLoader(list(pipeline), self.min_frames)

    def _init_collate(self, cfg: Config):
        """Batches of queries: paths and their clips ``[B, C, T, H, W]``."""

        def collate(items: List[tuple]) -> dict:
            return dict(
                paths=[path for path, _ in items],
                clips=ClipLoader.stack([clip for _, clip in items]))

        return collate

    def _init_visualizer(self, cfg: Config) -> None:
        """No drawing visualizer: :meth:`visualize` writes rankings."""
        return None

    #: ``{class: [paths]}`` of any accepted support form, checked.
    parse_support = staticmethod(parse_support)

    @torch.no_grad()
    def set_support(
            self,
            support: Optional[SupportSpec] = None,
            zero_shot_classes: Optional[Sequence[str]] = None) -> None:
        """Check, decode and encode the support set, once.

        Args:
            support (str | dict[str, Sequence[str]], optional): See
                :meth:`parse_support`. A dict whose classes all map to no
                video is zero-shot. None with ``zero_shot_classes``.
            zero_shot_classes (Sequence[str], optional): Class names to
                recognise from their names alone (the head's text branch,
                ``p_Q2T`` of docs/method.md, as ``tools/test.py
                --text-only``). Defaults to None.
        """
        class_names = zero_shot_class_names(support, zero_shot_classes)
        state: Dict[str, Any] = dict(feats=None, labels=None, shape=None)
        if class_names is None:
            support = self.parse_support(support)
            class_names = list(support)
            check_videos_exist(p for videos in support.values()
                               for p in videos)
        else:
            support = OrderedDict((name, []) for name in class_names)
            state['mode'] = 'text'
        model = self.model
        text = model.encode_text(class_names)  # [N, D'], once per set
        labels = torch.tensor([
            label for label, name in enumerate(class_names)
            for _ in support[name]
        ], dtype=torch.long)  # [S]
        # a model predicting from text alone never reads support videos
        if len(labels) and model.head.uses_support:
            paths = [p for name in class_names for p in support[name]]
            feats = []
            for start in range(0, len(paths), self.batch_size):
                stop = start + self.batch_size
                clips = ClipLoader.stack(
                    [self.load_clip(p) for p in paths[start:stop]])
                self._check_shape(state['shape'], clips)
                state['shape'] = clips.shape[1:]
                # each video reads its class's row of the text features
                feats.append(
                    model.encode_videos(
                        model.data_preprocessor.normalize(clips),
                        text=None if text is None else
                        text[labels[start:stop].to(text.device)]))
            state.update(feats=torch.cat(feats), labels=labels)
        state['text'] = text
        self.support, self.class_names = support, class_names
        self._support_state = state

    @staticmethod
    def _check_shape(shape: Optional[torch.Size], clips: Tensor) -> None:
        """Clips ``[B, C, T, H, W]`` scored with the support set have its
        clips' ``shape`` (``[C, T, H, W]``; None: not fixed yet)."""
        if shape is not None and clips.shape[1:] != shape:
            raise ValueError('Support and query clips differ in shape: '
                             f'{tuple(shape)} vs {tuple(clips.shape[1:])}.')

    def load_clip(self, path: str) -> Tensor:
        """Decode one local video with the :class:`ClipLoader`.

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
        check_videos_exist([path])
        return self.pipeline(path, self.seed)

    def __call__(self,
                 inputs: Union[None, SupportSpec, Sequence[str]],
                 queries: Union[None, str, Sequence[str]] = None,
                 zero_shot_classes: Optional[Sequence[str]] = None,
                 return_datasamples: bool = False,
                 batch_size: Optional[int] = None,
                 **kwargs) -> dict:
        """Rank the classes of the support set for every query.

        ``inferencer(queries)`` uses the support set given before;
        ``inferencer(support, queries)`` (or ``inferencer(None, queries,
        zero_shot_classes=[...])``) sets it first (:meth:`set_support`)
        and keeps it for later calls.

        Args:
            inputs (str | Sequence[str] | dict | None): The query video
                paths; in the two-argument form, the support set.
            queries (str | Sequence[str], optional): The query video paths
                of the two-argument form. Defaults to None.
            zero_shot_classes (Sequence[str], optional): Set a zero-shot
                support set first. Defaults to None.
            return_datasamples (bool): Predictions as MMAction2
                ``ActionDataSample`` (``pred_scores``, ``pred_labels``,
                metainfo ``query`` and ``classes``). Defaults to False.
            batch_size (int, optional): Queries per encoder pass.
                Defaults to the constructor's ``batch_size``.
            **kwargs: ``show``, ``return_vis``, ``topk`` (:meth:`visualize`)
                and ``print_result`` (:meth:`postprocess`).

        Returns:
            dict: ``predictions``: one dict per query, in order, with
            ``query`` (the path), ``ranking`` (``[(class name, score),
            ...]``, all classes, highest first; the head's probabilities,
            summing to 1) and ``pred_class``; ``visualization``: see
            :meth:`visualize`.
        """
        if queries is None:  # inferencer(queries)
            queries, support = inputs, None
            new_support = zero_shot_classes is not None
        else:  # inferencer(support, queries)
            support, new_support = inputs, True
        if isinstance(queries, (str, os.PathLike)):
            queries = [queries]
        queries = [str(q) for q in queries or ()]
        if not queries:
            raise ValueError('No query videos given.')
        check_videos_exist(queries)
        if new_support:
            self.set_support(support, zero_shot_classes)
        elif self.class_names is None:
            raise ValueError(
                'No support set: give one to the constructor, to '
                'set_support() or to the call (inferencer(support, '
                'queries)), or give zero_shot_classes.')
        warn_queries_in_support(queries, self.support)
        return super().__call__(
            queries, return_datasamples, batch_size or self.batch_size,
            **kwargs)

    def _inputs_to_list(self, inputs: Sequence[str]) -> list:
        """The query paths as given (a folder is not listed)."""
        return list(inputs)

    def preprocess(self, inputs: List[str], batch_size: int = 1, **kwargs):
        """Decode the queries; yield batches of paths and clips."""
        items = ((path, self.load_clip(path)) for path in inputs)
        yield from map(self.collate_fn,
                       self._get_chunk_data(items, batch_size))

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> List[dict]:
        """Encode a batch of queries and score it against the support set.

        Returns:
            list[dict]: Per query ``query`` (path) and ``scores`` ``[N]``.
        """
        state, model = self._support_state, self.model
        self._check_shape(state['shape'], inputs['clips'])
        query = model.encode_videos(
            model.data_preprocessor.normalize(inputs['clips']))
        scores = model.predict_by_feat(
            state['feats'],
            state['labels'],
            query,
            self.class_names,
            mode=state.get('mode'),
            text=state['text'])  # [B, N]
        return [
            dict(query=path, scores=row)
            for path, row in zip(inputs['paths'],
                                 scores.float().cpu())
        ]

    def visualize(self,
                  inputs: list,
                  preds: List[dict],
                  show: bool = False,
                  return_vis: bool = False,
                  topk: int = 5) -> Optional[List[str]]:
        """Each query's top-``topk`` classes as text (what the demo prints).

        Args:
            inputs (list): The query paths.
            preds (list[dict]): :meth:`forward`'s predictions.
            show (bool): Print the rankings. Defaults to False.
            return_vis (bool): Return them. Defaults to False.
            topk (int): Classes per query. Defaults to 5.

        Returns:
            list[str] | None: One text per query with ``return_vis`` or
            ``show``, else None.
        """
        if not (show or return_vis):
            return None
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        texts = [
            format_ranking(self._result(p), topk) for p in preds
        ]
        if show:
            print('\n'.join(texts))
        return texts

    def postprocess(self,
                    preds: List[dict],
                    visualization: Optional[List[str]] = None,
                    return_datasample: bool = False,
                    print_result: bool = False) -> dict:
        """Pack the predictions (and print them with ``print_result``)."""
        if return_datasample:
            from mmaction.structures import ActionDataSample
            predictions = []
            for pred in preds:
                sample = ActionDataSample(metainfo=dict(
                    query=pred['query'], classes=list(self.class_names)))
                sample.set_pred_score(pred['scores'])
                sample.set_pred_label(pred['scores'].argmax())
                predictions.append(sample)
        else:
            predictions = [self._result(pred) for pred in preds]
        if print_result:
            print(predictions)
        return dict(predictions=predictions, visualization=visualization)

    def _result(self, pred: dict) -> dict:
        """The result dict of one query."""
        return ranking_of(pred['query'], pred['scores'], self.class_names)
