"""MA-FSAR's visual encoder: a frozen open_clip ViT with Fine-grained
Multimodal Adaptation (FgMA) around every transformer block.

References:
    * MA-FSAR (arXiv 2308.01532), see docs/method.md: global temporal
      adaptation (GTA), local multimodal adaptation (LMA, support videos
      with their class text), local spatiotemporal adaptation (LSTA, query
      videos) and joint adaptation, all reusing the block's frozen
      ``ln_1`` + ``attn``.
    * AIM (github.com/taoyang1122/adapt-image-models,
      ``mmaction/models/backbones/vit_clip.py``): adapter placement,
      zero-initialised up-projections, ``scale`` of the MLP adapter, the
      temporal embedding.
    * open_clip 3.3 ``transformer.py`` (``VisionTransformer._embeds``,
      ``ResidualAttentionBlock``, ``VisionTransformer._pool``): token
      layout (batch first, class token first, patch dropout, ``ln_pre``).
"""
from functools import partial
from typing import List, Optional, Sequence

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from open_clip.transformer import ResidualAttentionBlock
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ..adapters import Adapter
from ..utils import build_clip_visual, check_open_clip_tower
from .frozen_attention import frozen_attention, fusable

_TEXT_FC_MODES = ('per_layer', 'shared')
_LMA_MODES = ('parallel', 'serial')
_GTA_RESIDUALS = ('token', 'stream')


@MODELS.register_module()
class CLIPViTFgMA(BaseModule):
    """Frozen CLIP ViT with FgMA adapters (MA-FSAR).

    The open_clip visual tower is kept as ``self.visual`` (parameter names
    stay open_clip's, e.g. ``visual.transformer.resblocks.0.attn.
    in_proj_weight``); pretrained weights are loaded before the adapters
    are added. Each adapted block ``l`` (input ``X``: ``[V*T, N+1, D]``,
    class token first) computes:

    1. **GTA**: the T class tokens of a video form one sequence ``c``
       (``[V, T, D]``): ``c' = c + A_T(MSA(LN1(c)))`` (``A_T``: no inner
       skip, zero init, so ``c' = c`` at the start).
    2. **LMA** (``text`` given) / **LSTA** (``text`` None): per frame the
       tokens ``Z_t = [X_t (N+1), c'_t, text_t]`` (``text_t =
       TextFC_l(text)``, D' -> D; no text token for LSTA) go through the
       frozen ``ln_1`` + ``attn``; only the N+1 frame tokens are used as
       queries, which is the same as attending over all of ``Z_t`` and
       selecting the first N+1 outputs.

       * ``lma_mode='parallel'`` (default): ``X' = X + MSA(LN1(X)) +
         A_M(MSA_Z(LN1(X); LN1(Z)))`` with ``A_M`` without inner skip and
         zero-initialised. The block's own spatial attention is kept
         intact and the multimodal attention enters through the adapter,
         so zero adapters reproduce CLIP exactly (the extra keys c'_t and
         text_t would otherwise change the frozen softmax).
       * ``lma_mode='serial'``: the literal figure reading ``Z' = Z +
         A_M(MSA(LN1(Z)))`` with an AIM "S-adapter" (inner skip) and
         select ``Z'[:N+1]``. Not an identity at init.

       ``A_M`` (LMA) and ``A_ST`` (LSTA) are one adapter when
       ``share_lma_lsta=True``.
    3. **Joint**: ``X_out = X' + MLP(LN2(X')) + s * A_J(LN2(X'))``.

    Where the GTA residual goes (``gta_residual``): with ``'token'``
    (default, the paper figure) ``c'`` only exists as the extra token of
    LMA/LSTA; the stream's own class token stays ``c`` and gets its
    residual update from the LMA/LSTA attention (where it can attend to
    ``c'_t``); ``c'`` is rebuilt from the stream at every block. With
    ``'stream'`` (AIM-style temporal adaptation) ``c'`` replaces the
    stream's class token before LMA/LSTA and is not appended again. When
    ``with_lma=False`` there is no extra token, so ``c'`` is always written
    to the stream.

    Output per frame: ``ln_post(class token) @ proj`` (open_clip's
    ``_pool``), ``[V, T, D']``.

    Args:
        clip (dict): Kwargs of
            :func:`mafsar_mm.models.utils.build_open_clip`, e.g.
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
        lma_mode (str): ``'parallel'`` or ``'serial'``, see above.
            Defaults to ``'parallel'``.
        gta_residual (str): ``'token'`` or ``'stream'``, see above.
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
        super().__init__(init_cfg=init_cfg)
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
        self.visual = build_clip_visual(clip)
        transformer = self.visual.transformer
        if self.visual.attn_pool is not None:
            raise ValueError('Visual towers with attentional pooling are '
                             'not supported (pooling must be on tokens).')
        if not getattr(transformer, 'batch_first', True):
            raise ValueError('Only batch-first open_clip transformers are '
                             'supported.')
        check_open_clip_tower(self.visual, type(self).__name__)
        self.embed_dims = transformer.width
        self.output_dim = self.visual.output_dim
        self.num_layers = len(transformer.resblocks)
        self.adapted_layers = self._check_layers(adapted_layers)
        self.frozen = frozen
        if frozen:
            for param in self.visual.parameters():
                param.requires_grad_(False)

        # 2. the tunable parts
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
        make = partial(
            Adapter, dims, mlp_ratio=adapter_ratio, act_cfg=act_cfg)

        self.t_adapters = nn.ModuleDict(
            {k: make(skip_connect=False)
             for k in keys}) if with_gta else None
        lma_skip = lma_mode == 'serial'
        if with_lma:
            self.m_adapters = nn.ModuleDict(
                {k: make(skip_connect=lma_skip)
                 for k in keys})
            self.st_adapters = None if share_lma_lsta else nn.ModuleDict(
                {k: make(skip_connect=lma_skip)
                 for k in keys})
            make_fc = partial(self._make_text_fc, self.text_dim, dims,
                              text_fc_rank)
            if text_fc == 'per_layer':
                self.text_fcs = nn.ModuleDict(
                    {k: make_fc()
                     for k in keys})
                self.text_fc = None
            else:
                self.text_fcs = None
                self.text_fc = make_fc()
        else:
            self.m_adapters = self.st_adapters = None
            self.text_fcs = self.text_fc = None
        self.j_adapters = nn.ModuleDict({
            k: make(
                skip_connect=False,
                mlp_ratio=adapter_ratio if joint_ratio is None else
                joint_ratio)
            for k in keys
        }) if with_joint else None
        if temporal_pos_embed:
            self.temporal_embedding = nn.Parameter(
                torch.zeros(num_frames, dims))
        else:
            self.register_parameter('temporal_embedding', None)
        if frozen:
            self.visual.eval()

    @staticmethod
    def _make_text_fc(in_dims: int, out_dims: int,
                      rank: Optional[int]) -> nn.Module:
        """One Text FC ``D' -> D``, full or of rank ``rank``."""
        if rank is None:
            return nn.Linear(in_dims, out_dims)
        return nn.Sequential(
            nn.Linear(in_dims, rank), nn.Linear(rank, out_dims))

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

    def train(self, mode: bool = True) -> 'CLIPViTFgMA':
        """Set train/eval mode; a frozen CLIP tower always stays in eval
        mode (no patch dropout, deterministic)."""
        super().train(mode)
        if self.frozen:
            self.visual.eval()
        return self

    def _text_token(self, key: str, text: Tensor, num_videos: int,
                    num_frames: int) -> Tensor:
        """Project the video text features into the block's width and
        repeat them over frames: ``[V, D'] -> [V*T, 1, D]``."""
        fc = self.text_fcs[key] if self.text_fcs is not None \
            else self.text_fc
        token = fc(text)  # [V, D'] -> [V, D]
        token = token[:, None, None, :].expand(-1, num_frames, 1, -1)
        return token.reshape(num_videos * num_frames, 1, -1)

    def _adapted_block(self, idx: int, x: Tensor, text: Optional[Tensor],
                       num_videos: int, num_frames: int) -> Tensor:
        """One frozen block with FgMA; ``x``: ``[V*T, N+1, D]``."""
        blk = self.visual.transformer.resblocks[idx]
        key = str(idx)
        dims = x.shape[-1]
        extras = []  # extra LMA/LSTA tokens, each [V*T, 1, D]

        # GTA: the T class tokens of each video as one sequence
        if self.with_gta:
            cls = x[:, 0].reshape(num_videos, num_frames, dims)  # [V, T, D]
            attn_t = self._plain_attention(blk, blk.ln_1(cls))
            cls = cls + self.t_adapters[key](attn_t)  # c' = c + A_T(...)
            cls = cls.reshape(num_videos * num_frames, 1, dims)
            if self.with_lma and self.gta_residual == 'token':
                extras.append(cls)
            else:  # c' replaces the class token of the stream
                x = torch.cat([cls, x[:, 1:]], dim=1)

        # LMA (with text) / LSTA (without), or the plain frozen attention
        ln_x = blk.ln_1(x)  # [V*T, N+1, D]
        if self.with_lma:
            if text is not None:
                extras.append(
                    self._text_token(key, text, num_videos, num_frames))
                adapter = self.m_adapters[key]
            else:
                adapter = (self.m_adapters if self.st_adapters is None else
                           self.st_adapters)[key]
            parallel = self.lma_mode == 'parallel'
            # parallel: the multimodal attention only feeds the adapter,
            # which can absorb the frozen output projection
            fold = (parallel and bool(extras) and self.fused_attn
                    and isinstance(blk.ls_1, nn.Identity)
                    and isinstance(adapter, Adapter)
                    and not adapter.skip_connect)
            attn_x = None
            if extras and self.fused_attn:
                # keys/values [X_t, c'_t, text_t]; only the N+1 frame tokens
                # query (= select the first N+1 outputs)
                attn_x, attn_mm = frozen_attention(
                    blk, ln_x, blk.ln_1(torch.cat(extras, 1)), parallel,
                    project_mm=not fold)
            elif extras:
                # keys/values [X_t, c'_t, text_t]: [V*T, N+1+E, D]
                kv = torch.cat([ln_x, blk.ln_1(torch.cat(extras, 1))], 1)
                attn_mm = blk.ls_1(blk.attention(ln_x, kv, kv))
            else:
                attn_mm = None
            if attn_x is None and (parallel or attn_mm is None):
                attn_x = self._plain_attention(blk, ln_x)
            if fold:
                out_proj = blk.attn.out_proj
                x = x + attn_x + adapter.forward_projected(
                    attn_mm, out_proj.weight, out_proj.bias)
            elif parallel:
                if attn_mm is None:
                    attn_mm = attn_x
                x = x + attn_x + adapter(attn_mm)
            else:  # serial: Z' = Z + A(MSA(LN1(Z))), adapter with skip
                if attn_mm is None:
                    attn_mm = attn_x
                x = x + adapter(attn_mm)
        else:
            x = x + self._plain_attention(blk, ln_x)

        # joint adaptation: X' + MLP(LN2(X')) + s * A_J(LN2(X'))
        ln_2 = blk.ln_2(x)
        out = x + blk.ls_2(self._frozen_mlp(blk, ln_2))
        if self.with_joint:
            out = out + self.joint_scale * self.j_adapters[key](ln_2)
        return out

    def _frozen_mlp(self, blk: ResidualAttentionBlock, ln_2: Tensor) -> Tensor:
        """The block's MLP; with ``with_cp='mlp'`` its hidden activation
        is recomputed in the backward pass instead of kept."""
        mlp = blk.mlp
        if self.with_cp != 'mlp' or not torch.is_grad_enabled() or list(
                mlp._modules) != ['c_fc', 'gelu', 'c_proj'] or any(
                    p.requires_grad for p in mlp.parameters()):
            return mlp(ln_2)

        def hidden(t: Tensor) -> Tensor:
            # [B, L, D] -> [B, L, 4D]
            return mlp.gelu(mlp.c_fc(t))

        return mlp.c_proj(checkpoint(hidden, ln_2, use_reentrant=False))

    def _plain_attention(self, blk: ResidualAttentionBlock,
                         ln_x: Tensor) -> Tensor:
        """The block's frozen self-attention over ``ln_x`` (``ls_1``
        applied)."""
        if self.fused_attn:
            return frozen_attention(blk, ln_x, None, True)[0]
        return blk.ls_1(blk.attention(ln_x))

    @property
    def reads_text(self) -> bool:
        """Whether support features depend on the class text (LMA)."""
        return self.with_lma

    def forward(self, imgs: Tensor, text: Optional[Tensor] = None) -> Tensor:
        """Encode videos into per-frame CLIP features.

        Args:
            imgs (Tensor): ``[V, C, T, H, W]`` normalised frames.
            text (Tensor, optional): ``[V, D']`` class text feature of each
                video (support branch, LMA); None for the query branch
                (LSTA). Defaults to None.

        Returns:
            Tensor: ``[V, T, D']`` frame features.
        """
        if imgs.dim() != 5:
            raise ValueError('imgs must be [V, C, T, H, W], got shape '
                             f'{tuple(imgs.shape)}')
        num_videos, chans, num_frames, height, width = imgs.shape
        if text is not None and tuple(text.shape) != (num_videos,
                                                      self.text_dim):
            raise ValueError(f'text must be [V={num_videos}, '
                             f'{self.text_dim}], got {tuple(text.shape)}')
        # [V, C, T, H, W] -> [V*T, C, H, W]
        x = imgs.transpose(1, 2).reshape(num_videos * num_frames, chans,
                                         height, width)
        x = self.visual._embeds(x)  # [V*T, N+1, D], after ln_pre
        if text is not None:
            text = text.to(x.dtype)
        use_cp = self.with_cp is True and torch.is_grad_enabled()
        first = self.adapted_layers[0] if self.adapted_layers else None
        adapted = set(self.adapted_layers)
        for idx, blk in enumerate(self.visual.transformer.resblocks):
            if idx not in adapted:
                x = checkpoint(blk, x, use_reentrant=False) if use_cp \
                    else blk(x)
                continue
            if idx == first and self.temporal_embedding is not None:
                x = self._add_temporal_embedding(x, num_videos, num_frames)
            if use_cp:
                x = checkpoint(
                    self._adapted_block,
                    idx,
                    x,
                    text,
                    num_videos,
                    num_frames,
                    use_reentrant=False)
            else:
                x = self._adapted_block(idx, x, text, num_videos, num_frames)
        pooled, _ = self.visual._pool(x)  # ln_post(class token): [V*T, D]
        if self.visual.proj is not None:
            pooled = pooled @ self.visual.proj  # [V*T, D']
        return pooled.reshape(num_videos, num_frames, -1)

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
