"""A video dataset that serves N-way K-shot episodes."""
import os.path as osp
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmaction.registry import DATASETS
from mmengine.logging import print_log
from torch.utils.data import Dataset

from mafsar_mm.structures import EpisodeDataSample
from mafsar_mm.utils.errors import InputError
from .annotation_files import read_annotations, read_class_names
from .video_loading import (BAD_VIDEOS_KEY, BadVideoError, ClipLoader,
                            report_bad_video, seeded_global_rngs)

BAD_VIDEO_MODES = ('replace', 'error')
DUPLICATE_MODES = ('warn', 'error')

__all__ = [
    'BadVideoError', 'FewShotVideoDataset', 'read_annotations',
    'read_class_names', 'seeded_global_rngs'
]


@DATASETS.register_module()
class FewShotVideoDataset(Dataset):
    """Episodes of N-way K-shot action recognition from a video list.

    An episode id maps, through a seeded generator, to N classes and K + Q
    distinct videos per class (support and query disjoint). Each video goes
    through the MMAction2 pipeline; the pipeline must end in
    ``FormatShape(input_format='NCTHW')`` (or ``PackActionInputs``) with
    one clip per video. ``len(dataset)`` is the number of episodes, and an
    episode is a pure function of ``(seed, episode id)``.

    Args:
        ann_file (str): MMAction2 video annotation file, one
            ``<path> <label>`` per line; labels index ``class_name_file``.
        class_name_file (str): One class name per line, line i for label i.
        pipeline (list[dict | callable]): Per-video MMAction2 pipeline.
        data_root (str): Prefix for relative ``ann_file`` and
            ``class_name_file`` and for ``data_prefix``. Defaults to ''.
        data_prefix (dict): ``video`` directory the annotation paths are
            relative to (joined to ``data_root`` when relative).
            Defaults to ``dict(video='')``.
        n_way (int): Classes per episode (N). Defaults to 5.
        k_shot (int): Support videos per class (K). Defaults to 1.
        n_query (int): Query videos per class (Q). Defaults to 1.
        num_episodes (int): Number of episodes, ``len(dataset)``.
            Defaults to 10000.
        seed (int): Seed of the episode generator. Defaults to 0.
        test_mode (bool): Evaluation split. Defaults to False.
        min_frames (int): Videos with fewer frames are bad videos.
            Defaults to 1.
        bad_video (str, optional): ``'replace'`` logs a bad video once and
            uses another video of the same class; ``'error'`` stops with a
            message naming the file. Defaults to None: ``'replace'`` in
            training, ``'error'`` in test mode.
        duplicates (str): A video listed more than once (same path after
            normalisation): ``'warn'`` logs one warning with the count and
            keeps one copy, ``'error'`` stops with a message (``--strict``
            of the tools). A video listed under two labels is always an
            error. Either way no episode holds a file twice.
            Defaults to 'warn'.
    """

    def __init__(self,
                 ann_file: str,
                 class_name_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 n_way: int = 5,
                 k_shot: int = 1,
                 n_query: int = 1,
                 num_episodes: int = 10000,
                 seed: int = 0,
                 test_mode: bool = False,
                 min_frames: int = 1,
                 bad_video: Optional[str] = None,
                 duplicates: str = 'warn') -> None:
        for name, value in (('n_way', n_way), ('k_shot', k_shot),
                            ('n_query', n_query),
                            ('num_episodes', num_episodes)):
            if not isinstance(value, int) or value < 1:
                raise InputError(f'{name} must be an integer >= 1, '
                                 f'got {value!r}')
        if bad_video is None:
            bad_video = 'error' if test_mode else 'replace'
        if bad_video not in BAD_VIDEO_MODES:
            raise InputError(f'bad_video must be one of {BAD_VIDEO_MODES}, '
                             f'got {bad_video!r}')
        self.data_root = data_root
        self.ann_file = self._join_root(ann_file)
        self.class_name_file = self._join_root(class_name_file)
        prefix = (data_prefix or {}).get('video', '')
        self.video_dir = self._join_root(prefix)
        self.n_way = n_way
        self.k_shot = k_shot
        self.n_query = n_query
        self.num_episodes = num_episodes
        self.seed = seed
        self.test_mode = test_mode
        self.min_frames = min_frames
        self.bad_video = bad_video
        if duplicates not in DUPLICATE_MODES:
            raise InputError(f'duplicates must be one of {DUPLICATE_MODES}, '
                             f'got {duplicates!r}')
        self.duplicates = duplicates
        #: Decodes and checks each video (the inferencer's loader too).
        self.loader = ClipLoader(pipeline, min_frames)
        self.pipeline = self.loader.pipeline
        self._bad_videos: Dict[str, str] = {}
        self._load()

    def _join_root(self, path: str) -> str:
        if self.data_root and not osp.isabs(path):
            return osp.join(self.data_root, path)
        return path

    def _load(self) -> None:
        self.all_class_names = read_class_names(self.class_name_file)
        self.videos_of: Dict[int, List[str]] = defaultdict(list)
        label_of: Dict[str, int] = {}
        repeats: Dict[str, int] = {}
        for path, label in read_annotations(self.ann_file):
            if not 0 <= label < len(self.all_class_names):
                raise InputError(
                    f'{self.ann_file}: label {label} of {path} has no name '
                    f'in {self.class_name_file}, which names labels 0..'
                    f'{len(self.all_class_names) - 1}. The class-name file '
                    'does not match the annotation file.')
            # one file however it is written (relative, absolute, through
            # a link): else it could be support and query of one episode
            full = osp.realpath(osp.join(self.video_dir, path))
            if full in label_of:
                if label_of[full] != label:
                    raise InputError(
                        f'{self.ann_file}: {path} is listed with labels '
                        f'{label_of[full]} and {label}; a video belongs to '
                        'one class.')
                repeats[full] = repeats.get(full, 0) + 1
                continue
            label_of[full] = label
            self.videos_of[label].append(osp.join(self.video_dir, path))
        if repeats:
            self._report_duplicates(repeats)
        self.split_labels = sorted(self.videos_of)
        need = self.k_shot + self.n_query
        if self.n_way > len(self.split_labels):
            raise InputError(
                f'n_way={self.n_way} is larger than the number of classes '
                f'in {self.ann_file} ({len(self.split_labels)}).')
        too_few = [c for c in self.split_labels if len(self.videos_of[c]) <
                   need]
        if too_few:
            listing = ', '.join(
                f'{self.all_class_names[c]!r} ({len(self.videos_of[c])})'
                for c in too_few[:10])
            print_log(
                f'{len(too_few)} classes of {self.ann_file} have fewer than '
                f'k_shot + n_query = {need} videos and are left out of '
                f'episodes: {listing}' + (' ...' if len(too_few) > 10 else
                                          ''),
                logger='current',
                level=30)
        self.episode_labels = [c for c in self.split_labels if c not in
                               set(too_few)]
        if len(self.episode_labels) < self.n_way:
            raise InputError(
                f'{self.ann_file}: only {len(self.episode_labels)} classes '
                f'have at least k_shot + n_query = {need} videos, but '
                f'n_way={self.n_way} classes are needed per episode.')

    def _report_duplicates(self, repeats: Dict[str, int]) -> None:
        """Warn about (or refuse) videos listed more than once."""
        extra = sum(repeats.values())
        first = next(iter(repeats))
        text = (f'{self.ann_file}: {len(repeats)} videos are listed more '
                f'than once ({extra} extra lines, e.g. {first})')
        if self.duplicates == 'error':
            raise InputError(
                f'{text}. Remove the repeated lines (tools/data/'
                'check_videos.py --out writes a list without them).')
        print_log(
            f'{text}; each is used once, so no episode holds a video twice. '
            'Remove the repeated lines, or pass --strict to stop on them.',
            logger='current',
            level=30)

    @property
    def metainfo(self) -> dict:
        """Class names of this split, in label order."""
        return dict(
            classes=tuple(self.all_class_names[c] for c in self.split_labels))

    def __len__(self) -> int:
        return self.num_episodes

    def video_list(self) -> List[tuple]:
        """All ``(path, label)`` pairs of the episode classes."""
        return [(path, label) for label in self.episode_labels
                for path in self.videos_of[label]]

    def episode_plan(self, episode_id: int) -> dict:
        """Choose the classes and videos of an episode (no decoding).

        Args:
            episode_id (int): A non-negative episode id.

        Returns:
            dict: ``labels`` (N global labels in episode order),
            ``videos`` (per class, K + Q paths: support first),
            ``spares`` (per class, the class's other videos in a seeded
            order, used to replace bad videos) and ``video_seeds``.
        """
        if episode_id < 0:
            raise ValueError(f'episode_id must be >= 0, got {episode_id}')
        rng = np.random.default_rng(
            np.random.SeedSequence([self.seed, int(episode_id)]))
        labels = rng.choice(
            self.episode_labels, self.n_way, replace=False).tolist()
        need = self.k_shot + self.n_query
        videos, spares = [], []
        for label in labels:
            order = rng.permutation(len(self.videos_of[label]))
            paths = [self.videos_of[label][i] for i in order]
            videos.append(paths[:need])
            spares.append(paths[need:])
        seeds = rng.integers(0, 2**31 - 1, size=(self.n_way, need)).tolist()
        return dict(
            labels=labels, videos=videos, spares=spares, video_seeds=seeds)

    def load_video(self, path: str, seed: int) -> torch.Tensor:
        """Decode and check one video (:class:`ClipLoader`).

        Args:
            path (str): Video file.
            seed (int): Seed of the random augmentations.

        Returns:
            Tensor: uint8 clip ``[C, T, H, W]``.
        """
        return self.loader(path, seed)

    def _load_or_replace(self,
                         path: str,
                         seed: int,
                         spares: List[str],
                         load: Callable,
                         found: Optional[list] = None) -> tuple:
        """Load ``path`` with ``load``; on a bad video replace it or raise.

        Replacements come from ``spares`` in order, skipping videos known
        to be bad; the one used is removed from ``spares``. Bad videos met
        for the first time are appended to ``found`` as ``(path,
        reason)``.
        """
        for candidate in [path] + list(spares):
            if candidate in self._bad_videos:
                continue
            try:
                clip = load(candidate, seed)
            except BadVideoError as e:
                if self.bad_video == 'error':
                    raise
                reason = e.reason or str(e)
                self._bad_videos[candidate] = reason
                if found is not None:
                    found.append((candidate, reason))
                report_bad_video(candidate, reason)
                continue
            if candidate in spares:
                spares.remove(candidate)
            return candidate, clip
        label = next(c for c, v in self.videos_of.items() if path in v)
        videos = self.videos_of[label]
        bad = sum(v in self._bad_videos for v in videos)
        raise BadVideoError(
            f'Class {self.all_class_names[label]!r} (label {label}) of '
            f'{self.ann_file} has no readable video left for an episode: '
            f'{bad} of its {len(videos)} videos are bad (e.g. {path}: '
            f'{self._bad_videos.get(path, "?")}). Check the data with '
            'tools/data/check_videos.py.')

    def episode_items(self, episode_id: int, load: Callable) -> tuple:
        """The episode's videos mapped through ``load``, and its sample.

        Bad videos are replaced by another video of the class or raised,
        as ``bad_video`` says, whichever ``load`` is used.

        Args:
            episode_id (int): The episode id.
            load (callable): ``load(path, seed)`` returning one item per
                video (e.g. :meth:`load_video`'s clip) and raising
                :class:`BadVideoError` for a bad one.

        Returns:
            tuple: ``(items, sample)``: the N*(K+Q) items, support first
            (class by class), and the :class:`EpisodeDataSample`.
        """
        plan = self.episode_plan(episode_id)
        k = self.k_shot
        support, query = [], []
        support_ids, query_ids = [], []
        found: List[tuple] = []
        for c in range(self.n_way):
            spares = list(plan['spares'][c])
            for j, path in enumerate(plan['videos'][c]):
                used, item = self._load_or_replace(
                    path, plan['video_seeds'][c][j], spares, load, found)
                (support if j < k else query).append(item)
                (support_ids if j < k else query_ids).append(used)
        sample = EpisodeDataSample(
            metainfo=dict(
                episode_id=int(episode_id),
                class_names=[self.all_class_names[c]
                             for c in plan['labels']],
                # all classes of this split: the text loss of CLIP-FSAR
                # runs over every training class (text_classes='split')
                split_class_names=list(self.metainfo['classes']),
                video_ids=support_ids + query_ids,
                n_way=self.n_way,
                k_shot=self.k_shot,
                n_query=self.n_query,
                **{BAD_VIDEOS_KEY: found}))
        sample.support_labels = torch.arange(self.n_way).repeat_interleave(k)
        sample.query_labels = torch.arange(
            self.n_way).repeat_interleave(self.n_query)
        return support + query, sample

    def __getitem__(self, episode_id: int) -> dict:
        clips, sample = self.episode_items(episode_id, self.load_video)
        # support first, class by class: [N*(K+Q), C, T, H, W]
        return dict(inputs=self.loader.stack(clips), data_samples=sample)
