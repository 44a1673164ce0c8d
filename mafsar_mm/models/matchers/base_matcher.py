"""The interface every few-shot matcher shares (in the manner of
MMAction2's ``BaseHead``: the base class checks and dispatches, a
subclass implements the metric)."""
from abc import ABCMeta, abstractmethod
from typing import Optional

from mmengine.model import BaseModule
from torch import Tensor

from .utils import check_matcher_inputs


class BaseMatcher(BaseModule, metaclass=ABCMeta):
    """A metric between query and support videos, as class logits.

    ``forward(support, support_labels, query)`` checks the inputs
    (:func:`check_matcher_inputs`, then :meth:`check_inputs` for what a
    matcher needs beyond it) and returns :meth:`match`. Logits are higher
    for closer classes (minus a distance, or a similarity); no temperature
    is applied unless the matcher says so.

    Args:
        init_cfg (dict, optional): MMEngine initialisation config.
            Defaults to None.
    """

    def __init__(self, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)

    def forward(self, support: Tensor, support_labels: Tensor,
                query: Tensor) -> Tensor:
        """Compute class logits for every query.

        Args:
            support (Tensor): Support features of shape ``[N*K, T, D]``.
            support_labels (Tensor): Episode-local labels ``[N*K]`` in
                ``0..N-1``, in any order; every class has at least one
                shot (shots may differ between classes).
            query (Tensor): Query features of shape ``[Q, T, D]``.

        Returns:
            Tensor: Logits of shape ``[Q, N]``.

        Raises:
            ValueError: On inputs that break the shapes above (one
                message naming the shapes).
        """
        num_classes = check_matcher_inputs(support, support_labels, query)
        self.check_inputs(support, query)
        return self.match(support, support_labels, query, num_classes)

    def check_inputs(self, support: Tensor, query: Tensor) -> None:
        """Checks beyond the shared ones (e.g. a fixed ``T`` or ``D``);
        raise a ValueError. The default checks nothing more."""

    @abstractmethod
    def match(self, support: Tensor, support_labels: Tensor, query: Tensor,
              num_classes: int) -> Tensor:
        """The metric on checked inputs.

        Args:
            support (Tensor): ``[N*K, T, D]``.
            support_labels (Tensor): ``[N*K]`` in ``0..N-1``.
            query (Tensor): ``[Q, T, D]``.
            num_classes (int): ``N``.

        Returns:
            Tensor: Logits ``[Q, N]``.
        """
