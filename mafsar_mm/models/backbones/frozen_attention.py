"""The frozen attention of an open_clip block, computed for speed.

:class:`CLIPViTFgMA` (``fused_attn=True``) runs the frozen multi-head
self-attentions of the CLIP blocks through :func:`frozen_attention`
instead of the block's ``nn.MultiheadAttention``: the same math (PyTorch's
``nn.MultiheadAttention`` with ``batch_first=True`` and packed q/k/v
weights, as open_clip 3.3 builds it) in a layout that is faster on CPU
and shares work between the plain and the multimodal attention.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from open_clip.transformer import ResidualAttentionBlock
from torch import Tensor, nn


def fusable(attn: nn.MultiheadAttention) -> bool:
    """Whether :func:`frozen_attention` reproduces ``attn``: packed
    q/k/v weights, batch first, no extra key/value biases."""
    return (attn.batch_first and attn._qkv_same_embed_dim
            and attn.in_proj_weight is not None and attn.bias_k is None
            and not attn.add_zero_attn)


def frozen_attention(
        blk: ResidualAttentionBlock,
        ln_x: Tensor,
        ln_extra: Optional[Tensor],
        plain: bool,
        project_mm: bool = True
) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """The block's frozen multi-head self-attention, frame tokens as
    queries (``ls_1`` applied).

    The math of ``blk.attention`` (``nn.MultiheadAttention``): q/k/v
    projection, scaled dot-product attention per head, output
    projection. It is computed here so that (1) the projections run
    on contiguous batch-first tensors: ``nn.MultiheadAttention``
    transposes to sequence first, and ``torch.matmul`` with a frozen
    weight and a non-contiguous input that needs grad falls back to a
    batched matmul over an expanded weight, much slower on CPU; (2)
    the q/k/v of the frame tokens are computed once for both the plain
    attention and the multimodal one; and (3) the keys/values of the
    frame and the extra tokens come out of one projection into one
    tensor, so the plain attention reads a slice of it and nothing is
    concatenated or saved for backward twice.

    Args:
        blk (ResidualAttentionBlock): The block.
        ln_x (Tensor): ``[B, L, D]`` normalised frame tokens (queries,
            keys and values).
        ln_extra (Tensor, optional): ``[B, E, D]`` normalised extra
            tokens (keys and values only).
        plain (bool): Also return the attention over ``ln_x`` alone
            when ``ln_extra`` is given.
        project_mm (bool): Apply the output projection (and
            ``ls_1``) to the multimodal attention; False returns the
            merged heads before it, for an adapter that folds the
            projection in (:meth:`Adapter.forward_projected`).
            Defaults to True.

    Returns:
        tuple: ``(attn_x, attn_mm)``, each ``[B, L, D]`` or None:
        ``attn_x`` attends over ``ln_x`` (given when ``plain`` or
        ``ln_extra`` is None), ``attn_mm`` over ``[ln_x, ln_extra]``
        (None without ``ln_extra``).
    """
    attn = blk.attn
    batch, length, dims = ln_x.shape
    heads = attn.num_heads
    weight, bias = attn.in_proj_weight, attn.in_proj_bias
    drop = attn.dropout if attn.training else 0.0

    def split_heads(t: Tensor, parts: int) -> List[Tensor]:
        # [B, L', parts * D] -> parts x [B, heads, L', D / heads]
        t = t.unflatten(-1, (parts, heads, dims // heads))
        return t.permute(2, 0, 3, 1, 4).unbind(0)

    def merge(o: Tensor, project: bool = True) -> Tensor:
        # [B, heads, L, D / heads] -> [B, L, D] -> output projection
        o = o.transpose(1, 2).reshape(batch, length, dims)
        if not project:
            return o
        return blk.ls_1(
            F.linear(o, attn.out_proj.weight, attn.out_proj.bias))

    b_q, b_kv = (None, None) if bias is None else bias.split(
        [dims, 2 * dims])
    q, = split_heads(F.linear(ln_x, weight[:dims], b_q), 1)
    tokens = ln_x if ln_extra is None else torch.cat([ln_x, ln_extra], 1)
    # [B, heads, L + E, D / heads] each
    k, v = split_heads(F.linear(tokens, weight[dims:], b_kv), 2)
    attn_x = attn_mm = None
    if ln_extra is None or plain:
        attn_x = merge(F.scaled_dot_product_attention(
            q, k[:, :, :length], v[:, :, :length], dropout_p=drop))
    if ln_extra is not None:
        attn_mm = merge(
            F.scaled_dot_product_attention(q, k, v, dropout_p=drop),
            project_mm)
    return attn_x, attn_mm
