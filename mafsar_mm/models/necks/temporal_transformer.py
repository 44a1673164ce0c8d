"""Video-only prototype transformer (the "video-only transformer" of
MA-FSAR's prototype-construction ablation)."""
from typing import Optional

from mmaction.registry import MODELS
from torch import Tensor

from .transformer_layer import BasePrototypeNeck


@MODELS.register_module()
class TemporalTransformer(BasePrototypeNeck):
    """Self-attention over the T frames for support and query alike; the
    class text is ignored. Same layer and arguments as :class:`TPCM`.

    Args:
        in_channels (int): Feature width D. Defaults to 512.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_channels (int): FFN hidden width. Defaults to 2048.
        attn_drop (float): Attention output dropout. Defaults to 0.2.
        ffn_drop (float): FFN dropout. Defaults to 0.05.
        pre_norm (bool): Pre-norm layer. Defaults to True.
        ffn_norm (bool): LayerNorm around the FFN. Defaults to True.
        kv_norm (str): ``'shared'`` or ``'separate'``. Defaults to
            ``'shared'``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    #: The class text is ignored (not checked either).
    uses_text = False

    def forward_support(self, support: Tensor,
                        support_text: Optional[Tensor] = None) -> Tensor:
        """Support branch (text ignored): ``[NK, T, D] -> [NK, T, D]``."""
        return self.layer(support)
