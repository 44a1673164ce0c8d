"""The one-layer transformer shared by the prototype modules (TPCM, the
CLIP-FSAR multimodal transformer and the video-only transformer).

Modelled on CLIP-FSAR's ``Transformer_v1`` (``PreNormattention_qkv`` +
``Attention_qkv`` + ``FeedForward`` in ``models/base/few_shot.py`` of
github.com/alibaba-mmai-research/CLIP-FSAR): one LayerNorm applied to
query, key and value, 8 heads, attention-output dropout 0.2, a GELU FFN
with dropout 0.05.
"""
from typing import Optional, Tuple

from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

_KV_NORMS = ('shared', 'separate')


@MODELS.register_module()
class PrototypeTransformerLayer(BaseModule):
    """A transformer layer with an optional separate key/value sequence.

    Pre-norm (``pre_norm=True``)::

        H   = Q + Drop(MHA(LN1(Q), LN_kv(KV), LN_kv(KV)))
        out = H + FFN(LN2(H))            # FFN(H) if ffn_norm=False

    Post-norm (``pre_norm=False``)::

        H   = LN1(Q + Drop(MHA(Q, KV, KV)))
        out = LN2(H + FFN(H))            # H + FFN(H) if ffn_norm=False

    ``KV`` defaults to ``Q`` (self-attention). ``LN_kv`` is ``LN1``
    (``kv_norm='shared'``, as CLIP-FSAR normalises q, k and v with one
    LayerNorm) or its own LayerNorm (``'separate'``; pre-norm only).

    Args:
        in_channels (int): Token width D. Defaults to 512.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_channels (int): FFN hidden width. Defaults to 2048.
        attn_drop (float): Dropout on the attention output (after the
            output projection, as CLIP-FSAR's ``Attention_qkv.to_out``).
            Defaults to 0.2.
        ffn_drop (float): Dropout after the FFN activation and after its
            output projection. Defaults to 0.05.
        pre_norm (bool): Pre-norm (else post-norm). Defaults to True.
        ffn_norm (bool): LayerNorm around the FFN too (CLIP-FSAR has
            none). Defaults to True.
        kv_norm (str): ``'shared'`` or ``'separate'``. Defaults to
            ``'shared'``.
        qkv_bias (bool): Biases on the q/k/v projections. False drops
            ``attn.in_proj_bias`` (the output projection keeps its bias),
            as CLIP-FSAR's ``Attention_qkv`` (``models/base/few_shot.py``
            L1046-1048: ``to_q/to_k/to_v`` with ``bias=False``). Defaults
            to True.
        act_cfg (dict): FFN activation. Defaults to ``dict(type='GELU')``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 512,
                 num_heads: int = 8,
                 ffn_channels: int = 2048,
                 attn_drop: float = 0.2,
                 ffn_drop: float = 0.05,
                 pre_norm: bool = True,
                 ffn_norm: bool = True,
                 kv_norm: str = 'shared',
                 qkv_bias: bool = True,
                 act_cfg: dict = dict(type='GELU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kv_norm not in _KV_NORMS:
            raise ValueError(f'kv_norm={kv_norm!r} is not supported; use '
                             f'one of {_KV_NORMS}.')
        if in_channels % num_heads != 0:
            raise ValueError(f'in_channels={in_channels} is not divisible '
                             f'by num_heads={num_heads}.')
        self.in_channels = in_channels
        self.pre_norm = pre_norm
        self.ffn_norm = ffn_norm
        self.kv_norm = kv_norm
        self.norm1 = nn.LayerNorm(in_channels)
        self.norm_kv = nn.LayerNorm(in_channels) \
            if kv_norm == 'separate' and pre_norm else None
        self.attn = nn.MultiheadAttention(
            in_channels, num_heads, batch_first=True)
        if not qkv_bias:
            # in_proj_bias is zero-initialised (no RNG is consumed), so
            # dropping it after construction keeps the RNG order
            self.attn.register_parameter('in_proj_bias', None)
        self.attn_drop = nn.Dropout(attn_drop)
        self.norm2 = nn.LayerNorm(in_channels) if ffn_norm else None
        self.ffn = nn.Sequential(
            nn.Linear(in_channels, ffn_channels), MODELS.build(act_cfg),
            nn.Dropout(ffn_drop), nn.Linear(ffn_channels, in_channels),
            nn.Dropout(ffn_drop))

    def _attend(self, q: Tensor, kv: Tensor) -> Tensor:
        """Multi-head attention with output dropout."""
        out = self.attn(q, kv, kv, need_weights=False)[0]
        return self.attn_drop(out)

    def forward(self, query: Tensor, key_value: Optional[Tensor] = None) \
            -> Tensor:
        """Apply the layer.

        Args:
            query (Tensor): ``[B, L, D]`` queries (also the residual).
            key_value (Tensor, optional): ``[B, S, D]`` keys/values;
                None for self-attention. Defaults to None.

        Returns:
            Tensor: ``[B, L, D]``.
        """
        if self.pre_norm:
            q = self.norm1(query)
            if key_value is None:
                kv = q
            else:
                norm = self.norm_kv if self.norm_kv is not None \
                    else self.norm1
                kv = norm(key_value)
            hidden = query + self._attend(q, kv)
            if self.norm2 is not None:
                return hidden + self.ffn(self.norm2(hidden))
            return hidden + self.ffn(hidden)
        kv = query if key_value is None else key_value
        hidden = self.norm1(query + self._attend(query, kv))
        out = hidden + self.ffn(hidden)
        return self.norm2(out) if self.norm2 is not None else out


class BasePrototypeNeck(BaseModule):
    """Base of the prototype modules: one :class:`PrototypeTransformerLayer`
    shared by the support and the query branch.

    Interface: ``forward(support [NK, T, D], query [Q, T, D],
    support_text [NK, D] | None) -> (support' [NK, T, D], query' [Q, T,
    D])``. Subclasses define the support branch
    (:meth:`forward_support`); the query branch is self-attention over the
    frames.

    Args:
        in_channels (int): Feature width D. Defaults to 512.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_channels (int): FFN hidden width. Defaults to 2048.
        attn_drop (float): Attention output dropout. Defaults to 0.2.
        ffn_drop (float): FFN dropout. Defaults to 0.05.
        pre_norm (bool): Pre-norm layer. Defaults to True.
        ffn_norm (bool): LayerNorm around the FFN. Defaults to True.
        kv_norm (str): ``'shared'`` or ``'separate'`` key/value norm.
            Defaults to ``'shared'``.
        qkv_bias (bool): Biases on the q/k/v projections. Defaults to
            True.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 512,
                 num_heads: int = 8,
                 ffn_channels: int = 2048,
                 attn_drop: float = 0.2,
                 ffn_drop: float = 0.05,
                 pre_norm: bool = True,
                 ffn_norm: bool = True,
                 kv_norm: str = 'shared',
                 qkv_bias: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.layer = PrototypeTransformerLayer(
            in_channels=in_channels,
            num_heads=num_heads,
            ffn_channels=ffn_channels,
            attn_drop=attn_drop,
            ffn_drop=ffn_drop,
            pre_norm=pre_norm,
            ffn_norm=ffn_norm,
            kv_norm=kv_norm,
            qkv_bias=qkv_bias)

    def _check_inputs(self, support: Tensor, query: Tensor,
                      support_text: Optional[Tensor]) -> None:
        """Validate shapes."""
        if support.dim() != 3 or query.dim() != 3:
            raise ValueError('support and query must be [B, T, D], got '
                             f'{tuple(support.shape)} and '
                             f'{tuple(query.shape)}')
        for name, feat in (('support', support), ('query', query)):
            if feat.shape[-1] != self.in_channels:
                raise ValueError(f'{name} width {feat.shape[-1]} != '
                                 f'in_channels={self.in_channels}')
        if support_text is not None and tuple(support_text.shape) != (
                support.shape[0], self.in_channels):
            raise ValueError(
                f'support_text must be [{support.shape[0]}, '
                f'{self.in_channels}], got {tuple(support_text.shape)}')

    def forward_query(self, query: Tensor) -> Tensor:
        """Query branch: self-attention over the T frames.

        Args:
            query (Tensor): ``[Q, T, D]``.

        Returns:
            Tensor: ``[Q, T, D]``.
        """
        return self.layer(query)

    #: Whether :meth:`forward_support` reads the class text (its shape is
    #: then checked).
    uses_text = True

    def forward_support(self, support: Tensor,
                        support_text: Optional[Tensor] = None) -> Tensor:
        """Support branch: ``[NK, T, D]`` (with ``[NK, D]`` class text or
        None) -> ``[NK, T, D]``."""
        raise NotImplementedError

    def forward(self,
                support: Tensor,
                query: Tensor,
                support_text: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor]:
        """Refine support and query frame features.

        Args:
            support (Tensor): ``[NK, T, D]`` support features.
            query (Tensor): ``[Q, T, D]`` query features.
            support_text (Tensor, optional): ``[NK, D]`` class text of each
                support video. Defaults to None.

        Returns:
            tuple[Tensor, Tensor]: ``[NK, T, D]`` and ``[Q, T, D]``.
        """
        self._check_inputs(support, query,
                           support_text if self.uses_text else None)
        return (self.forward_support(support, support_text),
                self.forward_query(query))
