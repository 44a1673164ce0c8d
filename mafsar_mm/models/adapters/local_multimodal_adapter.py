"""LMA, the support-branch box of MA-FSAR's FgMA (arXiv 2308.01532,
Fig. 2); LSTA is the same computation without the text token."""
from typing import TYPE_CHECKING, List, Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

from .adapter import Adapter

if TYPE_CHECKING:  # pragma: no cover
    from ..backbones.fgma_block import FgMABlock

_MODES = ('parallel', 'serial')


@MODELS.register_module()
class LocalMultimodalAdapter(Adapter):
    """Local Multimodal Adaptation (LMA): per frame, the frame tokens
    attend to ``c'`` (GTA) and the class text through the block's frozen
    attention, and the result enters through an adapter.

    Paper box "LMA" of FgMA (docs/method.md; SPEC §2.2, item 2). Per frame
    ``Z_t = [X_t (N+1), c'_t, text_t]`` with ``text_t = TextFC(text)``
    (D' -> D, see :meth:`build_text_fc`); only the N+1 frame tokens are
    queries, which equals attending over all of ``Z_t`` and selecting the
    first N+1 outputs (``MSA_Z``):

    * ``mode='parallel'`` (default)::

          X' = X + MSA(LN1(X)) + A_M(MSA_Z(LN1(X); LN1(Z)))

      ``A_M`` without inner skip, zero-initialised: the block's own
      attention is kept intact and zero adapters reproduce CLIP exactly.
    * ``mode='serial'``, the literal figure ``Z' = Z + A_M(MSA(LN1(Z)))``
      with an inner skip (AIM's S-adapter), selecting ``Z'[:N+1]``::

          X' = X + A_M(MSA_Z(LN1(X); LN1(Z)))

    Without extra tokens (LSTA with ``gta_residual='stream'`` or without
    GTA) ``MSA_Z`` is ``MSA``. The same class serves LSTA (no text
    token), see :class:`LocalSpatiotemporalAdapter`.

    Args:
        in_channels (int): Token width D.
        mlp_ratio (float): Bottleneck ratio. Defaults to 0.25.
        mode (str): ``'parallel'`` or ``'serial'``. Defaults to
            ``'parallel'``.
        act_cfg (dict): Activation config. Defaults to
            ``dict(type='GELU')``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 mlp_ratio: float = 0.25,
                 mode: str = 'parallel',
                 act_cfg: dict = dict(type='GELU'),
                 init_cfg: Optional[dict] = None) -> None:
        if mode not in _MODES:
            raise ValueError(f'lma_mode={mode!r} is not supported; use one '
                             f'of {_MODES}.')
        super().__init__(
            in_channels,
            mlp_ratio=mlp_ratio,
            act_cfg=act_cfg,
            skip_connect=mode == 'serial',
            init_cfg=init_cfg)
        self.mode = mode

    @staticmethod
    def build_text_fc(in_channels: int,
                      out_channels: int,
                      rank: Optional[int] = None) -> nn.Module:
        """The Text FC of LMA, ``D' -> D``: one ``Linear`` or, with
        ``rank``, ``Linear(D', rank) -> Linear(rank, D)`` (no
        activation)."""
        if rank is None:
            return nn.Linear(in_channels, out_channels)
        return nn.Sequential(
            nn.Linear(in_channels, rank), nn.Linear(rank, out_channels))

    def forward(self, x: Tensor, extras: List[Tensor],
                block: 'FgMABlock') -> Tensor:
        """Compute ``X'``.

        Args:
            x (Tensor): ``[V*T, N+1, D]`` frame tokens.
            extras (list[Tensor]): The extra tokens of ``Z`` (``c'``, the
                text token), each ``[V*T, 1, D]``; may be empty.
            block (FgMABlock): The frozen block (``ln_1``, attention).

        Returns:
            Tensor: ``X'``, ``[V*T, N+1, D]``.
        """
        parallel = self.mode == 'parallel'
        ln_x = block.ln_1(x)
        ln_extra = block.ln_1(torch.cat(extras, 1)) if extras else None
        # parallel: the multimodal attention only feeds this adapter,
        # which can absorb the frozen output projection
        fold = (
            parallel and ln_extra is not None and block.can_fold_out_proj
            and not self.skip_connect)
        attn_x, attn_mm = block.attend(
            ln_x, ln_extra, plain=parallel, project=not fold)
        if fold:
            out_proj = block.attn.out_proj
            return x + attn_x + self.forward_projected(
                attn_mm, out_proj.weight, out_proj.bias)
        if attn_mm is None:  # no extra token: Z = X
            attn_mm = attn_x
        if parallel:
            return x + attn_x + super().forward(attn_mm)
        return x + super().forward(attn_mm)  # A_M with its inner skip
