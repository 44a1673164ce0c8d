"""MA-FSAR's visual encoder: a frozen open_clip ViT with Fine-grained
Multimodal Adaptation (FgMA) around every transformer block.

References:
    * MA-FSAR (arXiv 2308.01532), see docs/method.md: each FgMA box is a
      module of its own in ``models/adapters`` (GTA, LMA, LSTA, joint),
      wired around one frozen block by :class:`.FgMABlock`.
    * AIM (github.com/taoyang1122/adapt-image-models,
      ``mmaction/models/backbones/vit_clip.py``): adapter placement,
      zero-initialised up-projections, ``scale`` of the MLP adapter, the
      temporal embedding.
    * open_clip 3.3 ``transformer.py`` (``VisionTransformer._embeds``,
      ``ResidualAttentionBlock``, ``VisionTransformer._pool``): token
      layout (batch first, class token first, patch dropout, ``ln_pre``).
"""
from functools import partial
from typing import Dict, List, Optional, Sequence

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ..adapters import (GlobalTemporalAdapter, JointAdapter,
                        LocalMultimodalAdapter, LocalSpatiotemporalAdapter)
from ..clip import build_clip_visual, check_open_clip_tower
from .base_clip_tower import BaseCLIPTower
from .fgma_block import FgMABlock
from .frozen_attention import fusable

_TEXT_FC_MODES = ('per_layer', 'shared')
_LMA_MODES = ('parallel', 'serial')
_GTA_RESIDUALS = ('token', 'stream')


@MODELS.register_module()
class CLIPViTFgMA(BaseCLIPTower):
    """Frozen CLIP ViT with FgMA adapters (MA-FSAR).

    The open_clip visual tower is kept as ``self.visual`` (parameter names
    stay open_clip's, e.g. ``visual.transformer.resblocks.0.attn.
    in_proj_weight``); pretrained weights are loaded before the adapters
    are added. Each adapted block ``l`` is an :class:`.FgMABlock` over
    the frozen ``visual.transformer.resblocks[l]`` and the paper boxes
    (input ``X``: ``[V*T, N+1, D]``, class token first):

    1. **GTA** (:class:`GlobalTemporalAdapter`, ``t_adapters[l]``):
       ``c' = c + A_T(MSA(LN1(c)))`` over the T class tokens of a video.
    2. **LMA** (:class:`LocalMultimodalAdapter`, ``m_adapters[l]`` and
       the Text FC ``text_fcs[l]`` / ``text_fc``) when ``text`` is given,
       else **LSTA** (the same adapter, or
       :class:`LocalSpatiotemporalAdapter` ``st_adapters[l]`` when
       ``share_lma_lsta=False``): the frame tokens attend to
       ``[X_t, c'_t, text_t]`` through the frozen attention;
       ``lma_mode`` picks the parallel (identity at init) or the serial
       (literal figure) reading.
    3. **Joint** (:class:`JointAdapter`, ``j_adapters[l]``):
       ``X_out = X' + MLP(LN2(X')) + s * A_J(LN2(X'))``.

    ``gta_residual``: ``'token'`` (default, the paper figure) passes
    ``c'`` to LMA/LSTA as an extra token only; ``'stream'`` (AIM-style
    temporal adaptation) writes it into the stream's class token (always
    done when ``with_lma=False``). See :class:`.FgMABlock`.

    Output per frame: ``ln_post(class token) @ proj`` (open_clip's
    ``_pool``), ``[V, T, D']``.

    Args:
        clip (dict): Kwargs of
            :func:`mafsar_mm.models.clip.build_open_clip`, e.g.
            ``dict(model_name='ViT-B-32', pretrained='openai')`` or
            ``dict(model_cfg=TINY_CLIP_CFG)``.
        adapter_ratio (float): Adapter bottleneck ratio. Defaults to 0.25.
        joint_scale (float): Scale ``s`` of the joint adapter. Defaults to
            0.5.
        share_lma_lsta (bool): One adapter for LMA and LSTA. Defaults to
            True.
        text_fc (str): ``'per_layer'`` (one Linear(D', D) per adapted
            block) or ``'shared'`` (one for all blocks). Defaults to
            ``'per_layer'``.
        text_fc_rank (int, optional): Make each Text FC low rank,
            ``Linear(D', r) -> Linear(r, D)`` (no activation). None is one
            full ``Linear(D', D)``. Defaults to None.
        joint_ratio (float, optional): Bottleneck ratio of the joint
            adapters; None uses ``adapter_ratio``. Defaults to None.
        adapted_layers (Sequence[int], optional): Indices of the blocks
            to adapt (negative indices count from the end); None adapts
            all. Defaults to None.
        temporal_pos_embed (bool): Learnable temporal position embedding
            ``[num_frames, D]`` (zero init), added once to the class tokens
            entering the first adapted block (before its GTA). Defaults to
            False.
        num_frames (int): Frames per video, for ``temporal_pos_embed``.
            Defaults to 8.
        with_gta (bool): Use GTA. Defaults to True.
        with_lma (bool): Use LMA/LSTA (else the plain frozen attention and
            the text is ignored). Defaults to True.
        with_joint (bool): Use the joint adapter. Defaults to True.
        lma_mode (str): ``'parallel'`` or ``'serial'``, see
            :class:`LocalMultimodalAdapter`. Defaults to ``'parallel'``.
        gta_residual (str): ``'token'`` or ``'stream'``, see above and
            :class:`.FgMABlock`.
            Defaults to ``'token'``.
        text_dim (int, optional): Width of the text features; None uses the
            CLIP embedding width D'. Defaults to None.
        act_cfg (dict): Adapter activation. Defaults to
            ``dict(type='GELU')``.
        with_cp (bool | str): ``True``: gradient checkpointing over each
            block (least memory, every block's forward runs twice).
            ``'mlp'``: recompute only the hidden activation of the frozen
            MLPs (``act(c_fc(x))``, the largest tensor autograd keeps for
            an adapted block) in the backward pass, from the MLP input
            that the joint adapter keeps anyway; costs one ``c_fc`` per
            block. Defaults to False.
        fused_attn (bool): Run the frozen attentions through
            :func:`.frozen_attention` (contiguous batch-first projections,
            ``F.scaled_dot_product_attention``, and one q/k/v projection of
            the frame tokens shared by the plain and the multimodal
            attention of ``lma_mode='parallel'``, whose frozen output
            projection is folded into the LMA adapter's down-projection,
            :meth:`Adapter.forward_projected`); False calls the block's
            ``nn.MultiheadAttention`` for every attention. Same results up
            to float rounding. Defaults to True.
        frozen (bool): Freeze the CLIP tower (and keep it in eval mode).
            Defaults to True.
        init_cfg (dict, optional): MMEngine init config (for the adapters;
            the CLIP part is never re-initialised by it). Defaults to None.
    """

    def __init__(self,
                 clip: dict,
                 adapter_ratio: float = 0.25,
                 joint_scale: float = 0.5,
                 share_lma_lsta: bool = True,
                 text_fc: str = 'per_layer',
                 text_fc_rank: Optional[int] = None,
                 joint_ratio: Optional[float] = None,
                 adapted_layers: Optional[Sequence[int]] = None,
                 temporal_pos_embed: bool = False,
                 num_frames: int = 8,
                 with_gta: bool = True,
                 with_lma: bool = True,
                 with_joint: bool = True,
                 lma_mode: str = 'parallel',
                 gta_residual: str = 'token',
                 text_dim: Optional[int] = None,
                 act_cfg: dict = dict(type='GELU'),
                 with_cp: bool = False,
                 fused_attn: bool = True,
                 frozen: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        for name, value, allowed in (('text_fc', text_fc, _TEXT_FC_MODES),
                                     ('lma_mode', lma_mode, _LMA_MODES),
                                     ('gta_residual', gta_residual,
                                      _GTA_RESIDUALS)):
            if value not in allowed:
                raise ValueError(f'{name}={value!r} is not supported; '
                                 f'use one of {allowed}.')
        if adapter_ratio <= 0 or (joint_ratio is not None
                                  and joint_ratio <= 0):
            raise ValueError('adapter_ratio and joint_ratio must be > 0, '
                             f'got {adapter_ratio} and {joint_ratio}')
        if text_fc_rank is not None and (not isinstance(text_fc_rank, int)
                                         or text_fc_rank < 1):
            raise ValueError('text_fc_rank must be a positive int or None, '
                             f'got {text_fc_rank!r}')

        # 1. the pretrained tower first, so its parameter names stay
        #    open_clip's
        super().__init__(build_clip_visual(clip), frozen, init_cfg=init_cfg)
        transformer = self.visual.transformer
        if self.visual.attn_pool is not None:
            raise ValueError('Visual towers with attentional pooling are '
                             'not supported (pooling must be on tokens).')
        if not getattr(transformer, 'batch_first', True):
            raise ValueError('Only batch-first open_clip transformers are '
                             'supported.')
        check_open_clip_tower(self.visual, type(self).__name__)
        self.num_layers = len(transformer.resblocks)
        self.adapted_layers = self._check_layers(adapted_layers)

        # 2. the tunable parts (built in this order: it fixes the RNG
        #    draws, so seeded builds and checkpoints stay the same)
        self.adapter_ratio = adapter_ratio
        self.joint_scale = joint_scale
        self.share_lma_lsta = share_lma_lsta
        self.text_fc_mode = text_fc
        self.num_frames = num_frames
        self.with_gta = with_gta
        self.with_lma = with_lma
        self.with_joint = with_joint
        self.lma_mode = lma_mode
        self.gta_residual = gta_residual
        if with_cp not in (True, False, 'mlp'):
            raise ValueError("with_cp must be True, False or 'mlp', got "
                             f'{with_cp!r}')
        self.with_cp = with_cp
        self.fused_attn = fused_attn and all(
            fusable(blk.attn) for blk in transformer.resblocks)
        self.text_dim = text_dim or self.output_dim
        keys = [str(i) for i in self.adapted_layers]
        dims = self.embed_dims

        def per_layer(make) -> nn.ModuleDict:
            return nn.ModuleDict({k: make() for k in keys})

        self.t_adapters = per_layer(
            partial(
                GlobalTemporalAdapter,
                dims,
                mlp_ratio=adapter_ratio,
                act_cfg=act_cfg)) if with_gta else None
        if with_lma:
            self.m_adapters = per_layer(
                partial(
                    LocalMultimodalAdapter,
                    dims,
                    mlp_ratio=adapter_ratio,
                    mode=lma_mode,
                    act_cfg=act_cfg))
            self.st_adapters = None if share_lma_lsta else per_layer(
                partial(
                    LocalSpatiotemporalAdapter,
                    dims,
                    mlp_ratio=adapter_ratio,
                    mode=lma_mode,
                    act_cfg=act_cfg))
            make_fc = partial(LocalMultimodalAdapter.build_text_fc,
                              self.text_dim, dims, text_fc_rank)
            if text_fc == 'per_layer':
                self.text_fcs = per_layer(make_fc)
                self.text_fc = None
            else:
                self.text_fcs = None
                self.text_fc = make_fc()
        else:
            self.m_adapters = self.st_adapters = None
            self.text_fcs = self.text_fc = None
        self.j_adapters = per_layer(
            partial(
                JointAdapter,
                dims,
                mlp_ratio=adapter_ratio
                if joint_ratio is None else joint_ratio,
                scale=joint_scale,
                act_cfg=act_cfg)) if with_joint else None
        if temporal_pos_embed:
            self.temporal_embedding = nn.Parameter(
                torch.zeros(num_frames, dims))
        else:
            self.register_parameter('temporal_embedding', None)

        # 3. the FgMA blocks: wiring only, outside the module tree (the
        #    parameters above keep their names)
        self.fgma_blocks: Dict[int, FgMABlock] = {
            idx: self._fgma_block(idx)
            for idx in self.adapted_layers
        }

    def _fgma_block(self, idx: int) -> FgMABlock:
        """The :class:`.FgMABlock` of block ``idx`` over this backbone's
        modules."""
        key = str(idx)

        def get(mods: Optional[nn.ModuleDict]) -> Optional[nn.Module]:
            return None if mods is None else mods[key]

        return FgMABlock(
            self.visual.transformer.resblocks[idx],
            gta=get(self.t_adapters),
            lma=get(self.m_adapters),
            lsta=get(self.st_adapters),
            text_fc=self.text_fc
            if self.text_fcs is None else self.text_fcs[key],
            joint=get(self.j_adapters),
            gta_residual=self.gta_residual,
            fused_attn=self.fused_attn,
            checkpoint_mlp=self.with_cp == 'mlp')

    def _check_layers(self, layers: Optional[Sequence[int]]) -> List[int]:
        """Normalise ``adapted_layers`` to sorted non-negative indices."""
        if layers is None:
            return list(range(self.num_layers))
        if isinstance(layers, int):
            layers = [layers]
        out = set()
        for idx in layers:
            if not isinstance(idx, int) or not (-self.num_layers <= idx <
                                                self.num_layers):
                raise ValueError(
                    f'adapted_layers must hold ints in [-{self.num_layers}, '
                    f'{self.num_layers}) or be None (all), got {layers!r}.')
            out.add(idx % self.num_layers)
        return sorted(out)

    @property
    def reads_text(self) -> bool:
        """Whether support features depend on the class text (LMA)."""
        return self.with_lma

    def check_text(self, text: Optional[Tensor], num_videos: int) -> None:
        """``text`` (support videos, LMA) must be ``[V, text_dim]``; None
        is the query branch (LSTA)."""
        if text is not None and tuple(
                text.shape) != (num_videos, self.text_dim):
            raise ValueError(f'text must be [V={num_videos}, '
                             f'{self.text_dim}], got {tuple(text.shape)}')

    def encode_frames(self, frames: Tensor, text: Optional[Tensor],
                      num_frames: int) -> Tensor:
        """The tower with FgMA: ``[V*T, C, H, W]`` -> ``[V*T, D']``."""
        num_videos = len(frames) // num_frames
        x = self.visual._embeds(frames)  # [V*T, N+1, D], after ln_pre
        if text is not None:
            text = text.to(x.dtype)
        use_cp = self.with_cp is True and torch.is_grad_enabled()
        first = self.adapted_layers[0] if self.adapted_layers else None
        for idx, blk in enumerate(self.visual.transformer.resblocks):
            fgma = self.fgma_blocks.get(idx)
            if idx == first and self.temporal_embedding is not None:
                x = self._add_temporal_embedding(x, num_videos, num_frames)
            args = (x, ) if fgma is None else (x, text, num_frames)
            fn = blk if fgma is None else fgma
            x = checkpoint(fn, *args, use_reentrant=False) if use_cp \
                else fn(*args)
        pooled, _ = self.visual._pool(x)  # ln_post(class token): [V*T, D]
        if self.visual.proj is not None:
            pooled = pooled @ self.visual.proj  # [V*T, D']
        return pooled

    def _add_temporal_embedding(self, x: Tensor, num_videos: int,
                                num_frames: int) -> Tensor:
        """Add the temporal embedding to the class tokens of ``x``."""
        if num_frames != self.num_frames:
            raise ValueError(f'temporal_pos_embed was built for '
                             f'num_frames={self.num_frames}, got '
                             f'{num_frames} frames.')
        # [T, D] -> [V*T, 1, D]
        pos = self.temporal_embedding.to(x.dtype).repeat(num_videos, 1)
        return torch.cat([x[:, :1] + pos[:, None], x[:, 1:]], dim=1)
