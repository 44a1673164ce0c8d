"""CLIP-FSAR's multimodal prototype transformer.

Wang et al., "CLIP-guided Prototype Modulating for Few-shot Action
Recognition", IJCV 2023; github.com/alibaba-mmai-research/CLIP-FSAR,
``CNN_OTAM_CLIPFSAR.forward`` in ``models/base/few_shot.py``:
``support = context2(cat([support, text[:, None]], 1))[:, :T]`` and
``query = context2(query, query, query)`` with one ``Transformer_v1``
(``context2``) shared by both.
"""
from typing import Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor

from .transformer_layer import BasePrototypeNeck


@MODELS.register_module()
class MultimodalTransformer(BasePrototypeNeck):
    """CLIP-FSAR prototype modulation.

    * support: the class text feature is appended as an extra (last)
      token, ``[F_S (T), f_t (1)]``, one self-attention layer runs over the
      ``T+1`` tokens, and the text token is dropped again;
    * query: CLIP-FSAR appends nothing - the query frames alone go
      through the same layer (self-attention over T);
    * without text the support takes the query path.

    CLIP-FSAR's ``Transformer_v1`` has no LayerNorm before its FFN, hence
    ``ffn_norm=False`` by default (set True to use exactly TPCM's layer),
    and its q/k/v projections have no bias (``Attention_qkv``,
    ``models/base/few_shot.py`` L1046-1048), hence ``qkv_bias=False``; the
    output projection keeps its bias. CLIP-FSAR's ``MERGE_BEFORE``
    (average the shots before the transformer) is done by its head,
    ``CLIPFSARHead(shot_merge='before_neck')``; its default (average after
    the transformer) is ``shot_merge='after_neck'``.

    Args:
        ffn_norm (bool): LayerNorm around the FFN. Defaults to False.
        qkv_bias (bool): Biases on the q/k/v projections. Defaults to
            False (CLIP-FSAR).
        **kwargs: The other arguments of :class:`BasePrototypeNeck`
            (``in_channels``, ``num_heads``, ``ffn_channels``,
            ``attn_drop``, ``ffn_drop``, ``pre_norm``, ``kv_norm``,
            ``init_cfg``), with the same defaults as TPCM.
    """

    def __init__(self,
                 ffn_norm: bool = False,
                 qkv_bias: bool = False,
                 **kwargs) -> None:
        super().__init__(ffn_norm=ffn_norm, qkv_bias=qkv_bias, **kwargs)

    def forward_support(self, support: Tensor,
                        support_text: Optional[Tensor] = None) -> Tensor:
        """Support branch.

        Args:
            support (Tensor): ``[NK, T, D]``.
            support_text (Tensor, optional): ``[NK, D]``. Defaults to None.

        Returns:
            Tensor: ``[NK, T, D]``.
        """
        if support_text is None:
            return self.layer(support)
        num_frames = support.shape[1]
        text = support_text.to(support.dtype)[:, None]  # [NK, 1, D]
        tokens = torch.cat([support, text], dim=1)  # [NK, T+1, D]
        return self.layer(tokens)[:, :num_frames]  # drop the text token
