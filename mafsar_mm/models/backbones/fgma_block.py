"""One frozen open_clip block with MA-FSAR's FgMA adapters around it.

References: timm ``vision_transformer.py`` ``Block.forward`` (a residual
block as a few lines over named submodules) and MMAction2
``models/backbones/uniformerv2.py`` (one module per paper box, composed
into a CLIP ViT).
"""
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from open_clip.transformer import ResidualAttentionBlock
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ..adapters import (GlobalTemporalAdapter, JointAdapter,
                        LocalMultimodalAdapter)
from .frozen_attention import frozen_attention

_GTA_RESIDUALS = ('token', 'stream')


class FgMABlock(BaseModule):
    """Fine-grained Multimodal Adaptation (FgMA) of one CLIP block.

    The paper's FgMA (docs/method.md; SPEC §2.2) in the order of its
    figure: :class:`GlobalTemporalAdapter` (GTA) gives ``c'``;
    :class:`LocalMultimodalAdapter` (LMA, support videos with their class
    text) or its LSTA counterpart (query videos) gives ``X'``;
    :class:`JointAdapter` gives ``X_out``. A missing part is the frozen
    block's own step (no GTA: no ``c'``; no LMA: ``X + MSA(LN1(X))``; no
    joint adapter: ``X' + MLP(LN2(X'))``), so with every part missing this
    is the open_clip block.

    Where ``c'`` goes (``gta_residual``): ``'token'`` (the paper figure)
    appends it to the tokens of LMA/LSTA and leaves the stream's class
    token ``c`` (rebuilt from the stream at every block); ``'stream'``
    (AIM style) writes ``c'`` into the stream before LMA/LSTA. Without
    LMA ``c'`` is always written into the stream.

    :class:`~mafsar_mm.models.backbones.CLIPViTFgMA` owns every parameter
    (``visual.transformer.resblocks.<i>``, ``t_adapters.<i>``, ...); this
    module only wires them, so it is kept out of the backbone's module
    tree and those names (and checkpoints) stay as they are.

    Args:
        block (ResidualAttentionBlock): The frozen open_clip block.
        gta (GlobalTemporalAdapter, optional): ``A_T``. Defaults to None.
        lma (LocalMultimodalAdapter, optional): ``A_M``. Defaults to None.
        lsta (LocalMultimodalAdapter, optional): ``A_ST``; None uses
            ``lma``. Defaults to None.
        text_fc (nn.Module, optional): LMA's Text FC, ``D' -> D``; needed
            with ``lma``. Defaults to None.
        joint (JointAdapter, optional): ``A_J``. Defaults to None.
        gta_residual (str): ``'token'`` or ``'stream'``. Defaults to
            ``'token'``.
        fused_attn (bool): Compute the frozen attention with
            :func:`.frozen_attention` (else the block's
            ``nn.MultiheadAttention``). Defaults to True.
        checkpoint_mlp (bool): Recompute the hidden activation of the
            frozen MLP in the backward pass (``with_cp='mlp'``). Defaults
            to False.
    """

    def __init__(self,
                 block: ResidualAttentionBlock,
                 gta: Optional[GlobalTemporalAdapter] = None,
                 lma: Optional[LocalMultimodalAdapter] = None,
                 lsta: Optional[LocalMultimodalAdapter] = None,
                 text_fc: Optional[nn.Module] = None,
                 joint: Optional[JointAdapter] = None,
                 gta_residual: str = 'token',
                 fused_attn: bool = True,
                 checkpoint_mlp: bool = False) -> None:
        super().__init__()
        if gta_residual not in _GTA_RESIDUALS:
            raise ValueError(f'gta_residual={gta_residual!r} is not '
                             f'supported; use one of {_GTA_RESIDUALS}.')
        if lma is not None and text_fc is None:
            raise ValueError('LMA needs its Text FC (text_fc).')
        self.block = block
        self.gta = gta
        self.lma = lma
        self.lsta = lma if lsta is None else lsta
        self.text_fc = text_fc
        self.joint = joint
        self.gta_residual = gta_residual
        self.fused_attn = fused_attn
        self.checkpoint_mlp = checkpoint_mlp

    @property
    def ln_1(self) -> nn.Module:
        """The frozen ``ln_1``."""
        return self.block.ln_1

    @property
    def attn(self) -> nn.MultiheadAttention:
        """The frozen ``attn``."""
        return self.block.attn

    @property
    def can_fold_out_proj(self) -> bool:
        """Whether :meth:`attend` can return the multimodal attention
        before its output projection (for an adapter to fold it in)."""
        return self.fused_attn and isinstance(self.block.ls_1, nn.Identity)

    def forward(self,
                x: Tensor,
                text: Optional[Tensor] = None,
                num_frames: int = 1) -> Tensor:
        """Apply the block with FgMA.

        Args:
            x (Tensor): ``[V*T, N+1, D]`` tokens, class token first.
            text (Tensor, optional): ``[V, D']`` class text feature of each
                video (LMA); None for query videos (LSTA). Defaults to None.
            num_frames (int): T. Defaults to 1.

        Returns:
            Tensor: ``[V*T, N+1, D]``.
        """
        extras = []  # the extra tokens of LMA/LSTA, each [V*T, 1, D]
        if self.gta is not None:
            cls = self.gta(x, num_frames, self.msa)  # c'
            if self.lma is not None and self.gta_residual == 'token':
                extras.append(cls)
            else:
                x = torch.cat([cls, x[:, 1:]], dim=1)
        if self.lma is None:
            x = x + self.msa(x)
        elif text is not None:
            extras.append(self.text_token(text, num_frames))
            x = self.lma(x, extras, self)
        else:
            x = self.lsta(x, extras, self)
        if self.joint is None:
            return x + self.mlp(self.block.ln_2(x))
        return self.joint(x, self.block.ln_2, self.mlp)

    def text_token(self, text: Tensor, num_frames: int) -> Tensor:
        """LMA's text token: ``TextFC(text)`` repeated over frames,
        ``[V, D'] -> [V*T, 1, D]``."""
        token = self.text_fc(text)  # [V, D]
        token = token[:, None, None, :].expand(-1, num_frames, 1, -1)
        return token.reshape(-1, 1, token.shape[-1])

    def msa(self, x: Tensor) -> Tensor:
        """The frozen ``MSA(LN1(x))`` (``ls_1`` applied)."""
        return self.attend(self.block.ln_1(x), None)[0]

    def attend(
            self,
            ln_x: Tensor,
            ln_extra: Optional[Tensor],
            plain: bool = True,
            project: bool = True) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """The frozen attention with the frame tokens as queries.

        Args:
            ln_x (Tensor): ``[B, L, D]`` normalised frame tokens.
            ln_extra (Tensor, optional): ``[B, E, D]`` normalised extra
                tokens (keys and values only).
            plain (bool): Also return the attention over ``ln_x`` alone
                when ``ln_extra`` is given. Defaults to True.
            project (bool): Apply the output projection to the attention
                over ``[ln_x, ln_extra]``; False needs
                :attr:`can_fold_out_proj`. Defaults to True.

        Returns:
            tuple: ``(attn_x, attn_mm)`` as :func:`.frozen_attention`.
        """
        blk = self.block
        if self.fused_attn:
            return frozen_attention(blk, ln_x, ln_extra, plain
                                    or ln_extra is None, project)
        attn_mm = None
        if ln_extra is not None:
            kv = torch.cat([ln_x, ln_extra], 1)  # [B, L+E, D]
            attn_mm = blk.ls_1(blk.attention(ln_x, kv, kv))
        attn_x = None
        if plain or ln_extra is None:
            attn_x = blk.ls_1(blk.attention(ln_x))
        return attn_x, attn_mm

    def mlp(self, ln_x: Tensor) -> Tensor:
        """The frozen ``MLP(ln_x)`` (``ls_2`` applied); with
        ``checkpoint_mlp`` its hidden activation is recomputed in the
        backward pass instead of kept."""
        mlp = self.block.mlp
        if not self.checkpoint_mlp or not torch.is_grad_enabled() or list(
                mlp._modules) != ['c_fc', 'gelu', 'c_proj'] or any(
                    p.requires_grad for p in mlp.parameters()):
            return self.block.ls_2(mlp(ln_x))

        def hidden(t: Tensor) -> Tensor:
            # [B, L, D] -> [B, L, 4D]
            return mlp.gelu(mlp.c_fc(t))

        return self.block.ls_2(
            mlp.c_proj(checkpoint(hidden, ln_x, use_reentrant=False)))
