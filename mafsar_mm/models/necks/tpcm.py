"""TPCM: MA-FSAR's Text-guided Prototype Construction Module
(docs/method.md; MA-FSAR, Xing et al., Pattern Recognition 2025)."""
from typing import Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor

from .transformer_layer import BasePrototypeNeck


@MODELS.register_module()
class TPCM(BasePrototypeNeck):
    """Text-guided Prototype Construction Module.

    One transformer layer (:class:`PrototypeTransformerLayer`, shared by
    both branches) is applied as

    * support (with its class text ``f_t``):
      ``Q = F_S + repeat_T(f_t)``, ``KV = concat(f_t, F_S)`` (``T+1``
      tokens, text first), ``H = Q + MHA(Q, KV, KV)``,
      ``F~_S = H + FFN(H)``;
    * query: ``H = F_Q + MHA(F_Q, F_Q, F_Q)``, ``F~_Q = H + FFN(H)``.

    With the default pre-norm layer, LN1 is applied to ``Q`` and (the same
    LayerNorm, as CLIP-FSAR does for q/k/v) to ``KV``, and LN2 before the
    FFN; residuals use the un-normalised ``Q``/``H``. Without text the
    support goes through the query (self-attention) path. 512/8/2048 gives
    3,152,384 parameters (~3.15 M, docs/method.md).

    Args:
        in_channels (int): Feature width D'. Defaults to 512.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_channels (int): FFN hidden width. Defaults to 2048.
        attn_drop (float): Attention output dropout. Defaults to 0.2.
        ffn_drop (float): FFN dropout. Defaults to 0.05.
        pre_norm (bool): Pre-norm layer (LayerNorm before attention and
            FFN). Defaults to True.
        ffn_norm (bool): LayerNorm around the FFN. Defaults to True.
        kv_norm (str): Norm of the key/value sequence: ``'shared'`` (LN1)
            or ``'separate'``. Defaults to ``'shared'``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def forward_support(self, support: Tensor,
                        support_text: Optional[Tensor] = None) -> Tensor:
        """Support branch.

        Args:
            support (Tensor): ``[NK, T, D]``.
            support_text (Tensor, optional): ``[NK, D]`` class text of each
                support video. Defaults to None (self-attention path).

        Returns:
            Tensor: ``[NK, T, D]``.
        """
        if support_text is None:
            return self.layer(support)
        text = support_text.to(support.dtype)[:, None]  # [NK, 1, D]
        query = support + text  # Q = F_S + repeat_T(f_t): [NK, T, D]
        key_value = torch.cat([text, support], dim=1)  # [NK, T+1, D]
        return self.layer(query, key_value)
