"""The one clip loader (:class:`ClipLoader`: an MMAction2 pipeline with
decord, and the checks every reader applies: the dataset, the feature
cache, the inferencer and the demo), and logging each bad video once per
run. Normalisation is not done here but by the model's data preprocessor
(``FewShotDataPreprocessor.normalize``), as in MMAction2."""
import os.path as osp
import random
from contextlib import contextmanager
from typing import (Callable, Iterable, Iterator, Optional, Sequence, Set,
                    Tuple, Union)

import numpy as np
import torch
from mmaction.registry import TRANSFORMS
from mmengine.dataset import Compose
from mmengine.dist import all_gather_object, get_dist_info, get_rank
from mmengine.logging import print_log
from torch.utils.data import get_worker_info

from mafsar_mm.utils.errors import InputError, UserError

#: Metainfo key of an episode: the bad videos first met while building it.
BAD_VIDEOS_KEY = 'bad_videos'


class BadVideoError(UserError, RuntimeError):
    """A video that cannot be decoded, is empty or is too short.

    Args:
        path (str): The video file; or the whole message when ``reason``
            is None (how DataLoader workers and pickling rebuild it).
        reason (str, optional): Why the video cannot be used. Defaults to
            None.
    """

    def __init__(self, path: str, reason: Optional[str] = None) -> None:
        if reason is None:
            super().__init__(path)
            self.path = self.reason = None
            return
        self.path = path
        self.reason = reason
        super().__init__(
            f'Bad video {path}: {reason.rstrip(".")}. Run '
            '`python tools/data/check_videos.py <annotation file> '
            '--video-root <dir>` to list and drop bad videos (in a dataset '
            "config, bad_video='replace' uses another video of the same "
            'class instead).')


@contextmanager
def seeded_global_rngs(seed: int) -> Iterator[None]:
    """Seed ``random`` and ``numpy.random`` for a block, then restore them.

    MMAction2's transforms draw from the global generators; seeding them
    per video makes augmentation a pure function of the episode id, which
    is what makes resumed training continue the same stream.
    """
    np_state = np.random.get_state()
    py_state = random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


def is_empty_file(path: str) -> bool:
    """Whether ``path`` is a local file of 0 bytes (remote paths: no)."""
    return osp.isfile(path) and osp.getsize(path) == 0


def too_few_frames(num_frames: int, min_frames: int) -> Optional[str]:
    """Why a video of ``num_frames`` frames is too short, or None."""
    if num_frames < min_frames:
        return f'{num_frames} frames, fewer than min_frames={min_frames}'
    return None


def decode_clip(pipeline: Callable, path: str, seed: int,
                min_frames: int) -> torch.Tensor:
    """Run one video through a pipeline and check it.

    Args:
        pipeline (callable): The MMAction2 pipeline (``Compose``).
        path (str): Video file.
        seed (int): Seed of the random augmentations.
        min_frames (int): Fewest frames accepted.

    Returns:
        Tensor: The pipeline's clip as a tensor, shape as the pipeline
        gives it (e.g. ``[1, C, T, H, W]`` after ``FormatShape('NCTHW')``).

    Raises:
        BadVideoError: If the pipeline fails on the file or the video has
            fewer than ``min_frames`` frames.
    """
    if is_empty_file(path):
        raise BadVideoError(path, 'empty file')
    results = dict(filename=path, label=-1, start_index=0, modality='RGB')
    try:
        with seeded_global_rngs(seed):
            results = _run_pipeline(pipeline, results)
    except Exception as e:  # decord and transforms raise many types
        reason = ' '.join(f'{type(e).__name__}: {e}'.split())
        raise BadVideoError(path, reason) from e
    total = results.get('total_frames', None)
    short = None if total is None else too_few_frames(total, min_frames)
    if short is not None:
        raise BadVideoError(path, short)
    imgs = results['imgs'] if 'imgs' in results else results['inputs']
    return torch.as_tensor(np.ascontiguousarray(imgs))


class ClipLoader:
    """Decode videos into uint8 clips ``[C, T, H, W]`` and check them.

    The one loader of the package: :class:`FewShotVideoDataset` (and the
    feature cache through it) and :class:`FewShotInferencer` both decode
    with it, so a video is read, refused or accepted the same way
    everywhere (same :class:`BadVideoError` messages).

    Args:
        pipeline (Sequence[dict | callable]): Per-video MMAction2 pipeline
            (``DecordInit``, ``SampleFrames``, ``DecordDecode``, resize and
            crop, ``FormatShape('NCTHW')``); dicts are built from
            MMAction2's registry, so it works outside a Runner too.
        min_frames (int): Videos with fewer frames are bad videos.
            Defaults to 1.
    """

    def __init__(self,
                 pipeline: Sequence[Union[dict, Callable]],
                 min_frames: int = 1) -> None:
        self.pipeline = Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in pipeline
        ])
        self.min_frames = min_frames

    def __call__(self, path: str, seed: int = 0) -> torch.Tensor:
        """Decode and check one video.

        Args:
            path (str): Video file.
            seed (int): Seed of the random augmentations. Defaults to 0.

        Returns:
            Tensor: uint8 clip ``[C, T, H, W]``.

        Raises:
            BadVideoError: The video cannot be decoded, is empty or has
                fewer than ``min_frames`` frames.
            InputError: The pipeline does not give one NCTHW clip.
        """
        imgs = decode_clip(self.pipeline, path, seed, self.min_frames)
        if imgs.dim() == 5:
            # [num_clips=1, C, T, H, W] -> [C, T, H, W]
            if imgs.shape[0] != 1:
                raise InputError(
                    'The pipeline must give one clip per video (NCTHW with '
                    f'num_clips=1), got shape {tuple(imgs.shape)}')
            imgs = imgs[0]
        if imgs.dim() != 4:
            raise InputError(
                "The pipeline must end in FormatShape('NCTHW'); got a clip "
                f'of shape {tuple(imgs.shape)}')
        return imgs

    @staticmethod
    def stack(clips: Sequence[torch.Tensor]) -> torch.Tensor:
        """Stack clips of one shape into ``[V, C, T, H, W]``.

        Raises:
            InputError: If the clips differ in shape.
        """
        shapes = {tuple(x.shape) for x in clips}
        if len(shapes) != 1:
            raise InputError(
                'Clips that are scored together must have one shape; the '
                f'pipeline gave {sorted(shapes)}. End it with a fixed-size '
                'crop or resize.')
        return torch.stack(list(clips))


def _run_pipeline(pipeline: Callable, results: dict) -> dict:
    """``pipeline(results)``; a pipeline returning None (a transform that
    dropped the sample) is a failure."""
    out = pipeline(results)
    if out is None:
        raise RuntimeError('the pipeline returned no data')
    return out


#: Bad videos this process has logged (or handed to the main process).
_logged: Set[str] = set()


def report_bad_video(path: str, reason: str) -> bool:
    """Log a bad video that is replaced, once per process.

    In a DataLoader worker nothing is logged: the dataset puts the video
    into the episode's metainfo (``BAD_VIDEOS_KEY``) and the loop of the
    main process logs it (:func:`log_batch_bad_videos`), so a run logs
    each bad video once however many workers and ranks meet it.

    Args:
        path (str): The video.
        reason (str): Why it is bad.

    Returns:
        bool: Whether the message was logged now.
    """
    if get_worker_info() is not None or path in _logged:
        return False
    _logged.add(path)
    if get_rank() == 0:
        print_log(
            f'Skipping bad video {path} ({reason}); using another video of '
            'the same class. Clean the list with '
            'tools/data/check_videos.py.',
            logger='current',
            level=30)
    return True


def _bad_videos_of(data_batch) -> Iterable[Tuple[str, str]]:
    samples = data_batch.get('data_samples', []) if isinstance(
        data_batch, dict) else []
    for sample in samples or []:
        metainfo = getattr(sample, 'metainfo', {})
        for path, reason in metainfo.get(BAD_VIDEOS_KEY, ()):
            yield path, reason


def log_batch_bad_videos(data_batch) -> None:
    """Log the bad videos the workers of all ranks met for a batch.

    Call it on every rank for every batch (it gathers over ranks when the
    run is distributed); rank 0 logs each video once per run.

    Args:
        data_batch (dict | None): A collated batch of episodes.
    """
    found = list(_bad_videos_of(data_batch or {}))
    _, world_size = get_dist_info()
    if world_size > 1:
        found = [item for part in all_gather_object(found) for item in part]
    for path, reason in found:
        report_bad_video(path, reason)
