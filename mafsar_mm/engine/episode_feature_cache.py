"""Encode every test video once, then evaluate episodes from the cache.

In MA-FSAR a query's features never depend on the episode and a support
video's features depend only on its own class text (docs/benchmarks.md,
"Evaluation: feature cache"). With a deterministic test pipeline each
video therefore needs at most two encoder passes (query branch, support
branch), however many episodes it appears in; only the head (prototype
module and matcher) runs per episode.

The cache only schedules: the model encodes clips
(``model.encode_clips``) and scores episodes (``model.predict_by_feat``),
as in its own ``predict`` and in the inferencer; the dataset says which
videos an episode uses (``dataset.episode_items``).
"""
from typing import Dict, List, Tuple

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.runner.amp import autocast
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from mafsar_mm.datasets import (BadVideoError, FewShotVideoDataset,
                                report_bad_video)
from mafsar_mm.structures import EpisodeDataSample
from mafsar_mm.utils.progress import track_progress


class _VideoClips(Dataset):
    """The clips of a list of videos; a bad video gives its reason."""

    def __init__(self, dataset: FewShotVideoDataset, videos: List[tuple]):
        self.dataset = dataset
        self.videos = videos

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> tuple:
        path, label = self.videos[index]
        try:
            return path, label, self.dataset.load_video(path, seed=0), None
        except BadVideoError as e:
            return path, label, None, e.reason


def _collate(batch: list) -> list:
    return batch


class EpisodeFeatureCache:
    """Encoder outputs of all videos of a split, and episodes from them.

    Args:
        model: A :class:`FewShotRecognizer` (not wrapped), in eval mode
            (any model with ``encode_clips`` and ``predict_by_feat``).
        dataset (FewShotVideoDataset): The split; its pipeline must be
            deterministic (test mode).
        batch_size (int): Videos per encoder call. Defaults to 8.
        num_workers (int): Decoding processes. Defaults to 0.
        fp16 (bool): Run the model under MMEngine's ``autocast``, as
            MMEngine's val/test loops do with ``fp16=True``. Defaults to
            False.
    """

    def __init__(self,
                 model,
                 dataset: FewShotVideoDataset,
                 batch_size: int = 8,
                 num_workers: int = 0,
                 fp16: bool = False) -> None:
        if not dataset.test_mode:
            raise ValueError(
                'The feature cache needs a deterministic test pipeline; '
                'the dataset is not in test mode.')
        self.model = model
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.fp16 = fp16
        self.feats: Dict[str, Tuple[Tensor, Tensor]] = {}
        self.bad: Dict[str, str] = {}
        self.encoder_passes = 0

    @torch.no_grad()
    def _encode(self, batch: list) -> None:
        paths = [b[0] for b in batch]
        names = [self.dataset.all_class_names[b[1]] for b in batch]
        with autocast(enabled=self.fp16):
            feats = self.model.encode_clips(
                torch.stack([b[2] for b in batch]), names)
        # one pass per distinct branch (the model shares the query's
        # features when support features do not depend on the text)
        self.encoder_passes += len(batch) * len(
            {id(f) for f in feats.values()})
        query = feats['query']
        support = feats.get('support')
        for i, path in enumerate(paths):
            self.feats[path] = (query[i].cpu(),
                                None if support is None else support[i].cpu())

    def build(self) -> 'EpisodeFeatureCache':
        """Encode this rank's share of the videos and gather all ranks'.

        Bad videos (unreadable, empty, too short) behave as in the plain
        path: with ``bad_video='replace'`` episodes use another video of
        the class (logged once, when first needed); with ``'error'`` (the
        test default) a :class:`BadVideoError` names the file and counts
        all bad videos of the split. Here it is raised for any bad video
        of the split, before any episode runs, and on every rank (the bad
        lists are gathered first, so no rank is left waiting).
        """
        rank, world_size = get_dist_info()
        stop_early = self.dataset.bad_video == 'error'
        # Whole encoder batches are dealt out over ranks, so every video is
        # encoded in the same batch (bit-identical features: matmul results
        # depend on the batch) whatever the number of processes.
        videos = self.dataset.video_list()
        size = self.batch_size
        batches = [videos[i:i + size] for i in range(0, len(videos), size)]
        videos = [v for batch in batches[rank::world_size] for v in batch]
        loader = DataLoader(
            _VideoClips(self.dataset, videos),
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            collate_fn=_collate)
        for batch in track_progress(loader, len(loader),
                                    f'encoding {len(videos)} videos'):
            good = []
            for path, label, clip, reason in batch:
                if clip is None:
                    self.bad[path] = reason
                else:
                    good.append((path, label, clip))
            # after a bad video nothing is encoded, but every video is
            # still checked so the error counts all of them
            if good and not (stop_early and self.bad):
                self._encode(good)
        if world_size > 1:
            parts = all_gather_object((self.feats, self.bad))
            for feats, bad in parts:
                self.feats.update(feats)
                self.bad.update(bad)
            if not stop_early:  # rank 0 logs the bad videos of all ranks
                for path in sorted(self.bad):
                    report_bad_video(path, self.bad[path])
        if stop_early and self.bad:
            path = sorted(self.bad)[0]
            reason = self.bad[path]
            if len(self.bad) > 1:
                more = len(self.bad) - 1
                reason += (f' (and {more} more bad '
                           f'video{"s" if more > 1 else ""} in the list)')
            raise BadVideoError(path, reason)
        return self

    def _lookup(self, path: str, seed: int) -> Tuple[Tensor, Tensor]:
        if path in self.bad:
            raise BadVideoError(path, self.bad[path])
        return self.feats[path]

    @torch.no_grad()
    def predict_episode(self, episode_id: int) -> EpisodeDataSample:
        """The episode's data sample with ``pred_scores``/``pred_labels``,
        computed from cached features by the model's
        ``predict_by_feat``."""
        items, sample = self.dataset.episode_items(episode_id, self._lookup)
        num_support = sample.num_support
        # supports use their support-branch features, queries the query's
        supports = [s for _, s in items[:num_support]]
        support = None if any(s is None for s in supports) else \
            torch.stack(supports)
        query = torch.stack([q for q, _ in items[num_support:]])
        with autocast(enabled=self.fp16):
            scores = self.model.predict_by_feat(support,
                                                sample.support_labels, query,
                                                sample.class_names)
        sample.pred_scores = scores
        sample.pred_labels = scores.argmax(dim=1)
        return sample
