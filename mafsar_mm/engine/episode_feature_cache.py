"""Encode every test video once, then score episodes from the cache.

A query's features never depend on the episode and a support video's
only on its own class text (docs/benchmarks.md, "Evaluation: feature
cache"), so with a deterministic test pipeline each video needs at most
two encoder passes and only the head runs per episode. The model encodes
(``encode_clips``) and scores (``predict_by_feat``) as in its
``predict``; the dataset says which videos an episode uses.
"""
from functools import partial
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.runner.amp import autocast
from torch import Tensor
from torch.utils.data import DataLoader

from mafsar_mm.datasets import (BadVideoError, FewShotVideoDataset,
                                report_bad_video)
from mafsar_mm.structures import EpisodeDataSample
from mafsar_mm.utils.progress import track_progress


def _load_clips(dataset: FewShotVideoDataset, videos: List[tuple]) -> list:
    """``(path, label, clip, None)``, or ``(path, label, None, reason)``
    for a bad video (a DataLoader's ``collate_fn``: runs in workers)."""
    out = []
    for path, label in videos:
        try:
            out.append((path, label, dataset.load_video(path, seed=0), None))
        except BadVideoError as e:
            out.append((path, label, None, e.reason))
    return out


class EpisodeFeatureCache:
    """Encoder outputs of all videos of a split, and episodes from them.

    Args:
        model: A :class:`FewShotRecognizer` (not wrapped) in eval mode.
        dataset (FewShotVideoDataset): The split, in test mode.
        batch_size (int): Videos per encoder call. Defaults to 8.
        num_workers (int): Decoding processes. Defaults to 0.
        fp16 (bool): Run the model under MMEngine's ``autocast``, as its
            loops do with ``fp16=True``. Defaults to False.
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
        self.model, self.dataset, self.fp16 = model, dataset, fp16
        self.batch_size, self.num_workers = batch_size, num_workers
        self.feats: Dict[str, Tuple[Tensor, Optional[Tensor]]] = {}
        self.bad: Dict[str, str] = {}
        self.encoder_passes = 0

    @torch.no_grad()
    def _encode(self, batch: list) -> None:
        names = [self.dataset.all_class_names[b[1]] for b in batch]
        with autocast(enabled=self.fp16):
            feats = self.model.encode_clips(
                torch.stack([b[2] for b in batch]), names)
        # the model returns the query's features as support features when
        # those do not depend on the text: one pass, not two
        self.encoder_passes += len(batch) * len({id(f)
                                                 for f in feats.values()})
        support = feats.get('support')
        for i, (path, _, _, _) in enumerate(batch):
            self.feats[path] = (feats['query'][i].cpu(),
                                None if support is None else support[i].cpu())

    def build(self) -> 'EpisodeFeatureCache':
        """Encode this rank's share of the videos and gather all ranks'.

        Bad videos behave as in the plain path: with ``bad_video=
        'replace'`` episodes use another video of the class; with
        ``'error'`` (the test default) a :class:`BadVideoError` names the
        first and counts all bad videos of the split, before any episode
        runs, on every rank.
        """
        rank, world_size = get_dist_info()
        stop_early = self.dataset.bad_video == 'error'
        # whole encoder batches are dealt out, so every video is encoded in
        # the same batch (bit-identical features) on any number of ranks
        videos, size = self.dataset.video_list(), self.batch_size
        batches = [videos[i:i + size] for i in range(0, len(videos), size)]
        videos = [v for batch in batches[rank::world_size] for v in batch]
        loader = DataLoader(
            videos,
            batch_size=size,
            num_workers=self.num_workers,
            collate_fn=partial(_load_clips, self.dataset))
        for batch in track_progress(loader, len(loader),
                                    f'encoding {len(videos)} videos'):
            self.bad.update((b[0], b[3]) for b in batch if b[2] is None)
            good = [b for b in batch if b[2] is not None]
            if good and not (stop_early and self.bad):  # but check all
                self._encode(good)
        if world_size > 1:
            for feats, bad in all_gather_object((self.feats, self.bad)):
                self.feats.update(feats)
                self.bad.update(bad)
            if not stop_early:  # rank 0 logs the bad videos of all ranks
                for path in sorted(self.bad):
                    report_bad_video(path, self.bad[path])
        if stop_early and self.bad:
            path, more = sorted(self.bad)[0], len(self.bad) - 1
            reason = self.bad[path] + (
                f' (and {more} more bad video{"s" if more > 1 else ""} in '
                'the list)' if more else '')
            raise BadVideoError(path, reason)
        return self

    def _lookup(self, path: str, seed: int) -> Tuple[Tensor, Tensor]:
        if path in self.bad:
            raise BadVideoError(path, self.bad[path])
        return self.feats[path]

    @torch.no_grad()
    def predict_episode(self, episode_id: int) -> EpisodeDataSample:
        """The episode's sample with ``pred_scores`` and ``pred_labels``
        from the model's ``predict_by_feat`` on cached features."""
        items, sample = self.dataset.episode_items(episode_id, self._lookup)
        # supports use their support-branch features, queries the query's
        supports = [s for _, s in items[:sample.num_support]]
        support = None if any(s is None for s in supports) else \
            torch.stack(supports)
        query = torch.stack([q for q, _ in items[sample.num_support:]])
        with autocast(enabled=self.fp16):
            scores = self.model.predict_by_feat(support,
                                                sample.support_labels, query,
                                                sample.class_names)
        sample.pred_scores = scores
        sample.pred_labels = scores.argmax(dim=1)
        return sample
