"""GTA, the first box of MA-FSAR's FgMA (arXiv 2308.01532, Fig. 2)."""
from typing import Callable, Optional

from mmaction.registry import MODELS
from torch import Tensor

from .adapter import Adapter


@MODELS.register_module()
class GlobalTemporalAdapter(Adapter):
    """Global Temporal Adaptation (GTA): the class tokens of a video's
    frames attend to each other through the block's frozen attention.

    Paper box "GTA" of FgMA (docs/method.md; SPEC §2.2, item 1)::

        c' = c + A_T(MSA(LN1(c)))

    where ``c`` are the T class tokens of one video taken as one sequence
    (``[V, T, D]``), ``MSA(LN1(.))`` is the frozen ``ln_1`` + ``attn`` of
    the CLIP block and ``A_T`` this bottleneck, without inner skip and
    with a zero-initialised up-projection (so ``c' = c`` at the start).

    Args:
        in_channels (int): Token width D.
        mlp_ratio (float): Bottleneck ratio. Defaults to 0.25.
        act_cfg (dict): Activation config. Defaults to
            ``dict(type='GELU')``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 mlp_ratio: float = 0.25,
                 act_cfg: dict = dict(type='GELU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            in_channels,
            mlp_ratio=mlp_ratio,
            act_cfg=act_cfg,
            skip_connect=False,
            init_cfg=init_cfg)

    def forward(self, x: Tensor, num_frames: int,
                msa: Callable[[Tensor], Tensor]) -> Tensor:
        """Compute ``c'`` from the tokens of a block.

        Args:
            x (Tensor): ``[V*T, N+1, D]`` tokens, class token first.
            num_frames (int): T.
            msa (Callable): The frozen ``MSA(LN1(.))``, ``[B, L, D]`` ->
                ``[B, L, D]``.

        Returns:
            Tensor: ``c'``, ``[V*T, 1, D]``.
        """
        dims = x.shape[-1]
        cls = x[:, 0].reshape(-1, num_frames, dims)  # [V, T, D]
        cls = cls + super().forward(msa(cls))
        return cls.reshape(-1, 1, dims)
