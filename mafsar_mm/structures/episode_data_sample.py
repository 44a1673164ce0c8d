"""The data element that describes one few-shot episode."""
from typing import List, Optional

import torch
from mmengine.structures import BaseDataElement


class EpisodeDataSample(BaseDataElement):
    """One N-way K-shot episode: labels, class names and predictions.

    Videos of an episode are stacked support first (class by class, K per
    class), then queries. Labels are episode-local (``0..N-1``), in the
    order of ``class_names``.

    Data fields (tensors, moved with the sample):

    - ``support_labels``: ``[N*K]`` long.
    - ``query_labels``: ``[N*Q]`` long.
    - ``pred_scores``: ``[N*Q, N]`` class probabilities (after predict).
    - ``pred_labels``: ``[N*Q]`` (after predict).

    Meta fields: ``class_names`` (N strings), ``video_ids`` (paths in stack
    order), ``episode_id``, ``n_way``, ``k_shot``, ``n_query`` and
    ``split_class_names`` (every class of the episode's split, for a text
    loss over all training classes).
    """

    @property
    def support_labels(self) -> torch.Tensor:
        return self._support_labels

    @support_labels.setter
    def support_labels(self, value: torch.Tensor) -> None:
        self.set_field(
            torch.as_tensor(value, dtype=torch.long),
            '_support_labels',
            dtype=torch.Tensor)

    @property
    def query_labels(self) -> torch.Tensor:
        return self._query_labels

    @query_labels.setter
    def query_labels(self, value: torch.Tensor) -> None:
        self.set_field(
            torch.as_tensor(value, dtype=torch.long),
            '_query_labels',
            dtype=torch.Tensor)

    @property
    def num_support(self) -> int:
        """Number of support videos, ``N*K``."""
        return len(self.support_labels)

    @property
    def class_names_or_none(self) -> Optional[List[str]]:
        """The episode's class names, or None when not given."""
        return self.metainfo.get('class_names', None)
