"""Bottleneck adapter (AIM style).

Reference: Yang et al., "AIM: Adapting Image Models for Efficient Video
Action Recognition", ICLR 2023, github.com/taoyang1122/adapt-image-models
(``mmaction/models/backbones/vit_clip.py``: ``Adapter`` with
``skip_connect`` and zero-initialised ``D_fc2``).
"""
from typing import Optional

import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn


@MODELS.register_module()
class Adapter(BaseModule):
    """``Linear(D, D*r) -> act -> Linear(D*r, D)`` with an optional skip.

    With ``zero_init=True`` the up-projection starts at zero, so the adapter
    outputs 0 (no skip) or its input (skip) at the start of training.

    Args:
        in_channels (int): Token width D.
        mlp_ratio (float): Bottleneck ratio r, hidden width
            ``int(D * r)``. Defaults to 0.25.
        act_cfg (dict): Activation config. Defaults to
            ``dict(type='GELU')``.
        skip_connect (bool): Return ``x + adapter(x)`` instead of
            ``adapter(x)``. Defaults to True.
        zero_init (bool): Zero-initialise the up-projection (weight and
            bias). Defaults to True.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 mlp_ratio: float = 0.25,
                 act_cfg: dict = dict(type='GELU'),
                 skip_connect: bool = True,
                 zero_init: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        hidden = int(in_channels * mlp_ratio)
        if hidden < 1:
            raise ValueError(f'mlp_ratio={mlp_ratio} gives an empty '
                             f'bottleneck for in_channels={in_channels}')
        self.in_channels = in_channels
        self.hidden_channels = hidden
        self.skip_connect = skip_connect
        self.zero_init = zero_init
        self.fc1 = nn.Linear(in_channels, hidden)
        self.act = MODELS.build(act_cfg)
        self.fc2 = nn.Linear(hidden, in_channels)
        self._init_up_projection()

    def _init_up_projection(self) -> None:
        """Zero the up-projection (AIM init) when ``zero_init``."""
        if self.zero_init:
            nn.init.zeros_(self.fc2.weight)
            nn.init.zeros_(self.fc2.bias)

    def init_weights(self) -> None:
        """Apply ``init_cfg`` (if any), then keep the zero init."""
        super().init_weights()
        self._init_up_projection()

    def forward(self, x: Tensor) -> Tensor:
        """Apply the adapter on the last dimension.

        Args:
            x (Tensor): ``[..., D]``.

        Returns:
            Tensor: ``[..., D]``.
        """
        out = self.fc2(self.act(self.fc1(x)))  # [..., D] -> [..., D]
        return x + out if self.skip_connect else out

    def forward_projected(self,
                          x: Tensor,
                          weight: Tensor,
                          bias: Optional[Tensor] = None) -> Tensor:
        """``self(F.linear(x, weight, bias))`` with the linear folded into
        the down-projection: ``fc1(W x + b) = (W1 W) x + (W1 b + b1)``.

        Saves computing (and back-propagating through) the ``[..., D]``
        projection when the adapter is its only user, e.g. the frozen
        output projection of an attention whose result only feeds this
        adapter. Equal to the unfolded form up to float rounding.

        Args:
            x (Tensor): ``[..., D_in]``.
            weight (Tensor): ``[D, D_in]``.
            bias (Tensor, optional): ``[D]``. Defaults to None.

        Returns:
            Tensor: ``[..., D]``.
        """
        if self.skip_connect:
            raise ValueError('forward_projected needs an adapter without '
                             'skip connection (the skip adds the '
                             'projected input).')
        fc1 = self.fc1
        w_in = fc1.weight @ weight  # [D*r, D] @ [D, D_in]
        b_in = fc1.bias if bias is None else fc1.bias + fc1.weight @ bias
        return self.fc2(self.act(F.linear(x, w_in, b_in)))
