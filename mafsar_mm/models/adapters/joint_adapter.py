"""Joint adaptation, the last box of MA-FSAR's FgMA (arXiv 2308.01532,
Fig. 2); the placement and scale follow AIM's MLP adapter
(github.com/taoyang1122/adapt-image-models, ``vit_clip.py``)."""
from typing import Callable, Optional

from mmaction.registry import MODELS
from torch import Tensor, nn

from .adapter import Adapter


@MODELS.register_module()
class JointAdapter(Adapter):
    """Joint Adaptation: an adapter beside the block's frozen MLP.

    Paper box "Joint Adaptation" of FgMA (docs/method.md; SPEC §2.2,
    item 4)::

        X_out = X' + MLP(LN2(X')) + s * A_J(LN2(X'))

    with ``X'`` the output of LMA/LSTA, ``MLP`` and ``LN2`` the frozen
    ``mlp`` (``ls_2`` applied) and ``ln_2`` of the CLIP block and ``A_J``
    this bottleneck (no inner skip, zero-initialised up-projection).

    Args:
        in_channels (int): Token width D.
        mlp_ratio (float): Bottleneck ratio. Defaults to 0.25.
        scale (float): ``s``. Defaults to 0.5.
        act_cfg (dict): Activation config. Defaults to
            ``dict(type='GELU')``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 mlp_ratio: float = 0.25,
                 scale: float = 0.5,
                 act_cfg: dict = dict(type='GELU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            in_channels,
            mlp_ratio=mlp_ratio,
            act_cfg=act_cfg,
            skip_connect=False,
            init_cfg=init_cfg)
        self.scale = scale

    def forward(self, x: Tensor, ln_2: nn.Module,
                mlp: Callable[[Tensor], Tensor]) -> Tensor:
        """Apply the frozen MLP and the joint adapter.

        Args:
            x (Tensor): ``X'``, ``[B, L, D]``.
            ln_2 (nn.Module): The block's frozen ``ln_2``.
            mlp (Callable): The block's frozen MLP branch.

        Returns:
            Tensor: ``X_out``, ``[B, L, D]``.
        """
        ln_x = ln_2(x)
        out = x + mlp(ln_x)
        return out + self.scale * super().forward(ln_x)
