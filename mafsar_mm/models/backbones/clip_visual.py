"""Plain open_clip visual tower applied frame by frame (baselines: frozen
CLIP features, or full fine-tuning as in CLIP-FSAR,
github.com/alibaba-mmai-research/CLIP-FSAR)."""
from typing import Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor

from ..clip import build_clip_visual
from .base_clip_tower import BaseCLIPTower


@MODELS.register_module()
class CLIPVisual(BaseCLIPTower):
    """open_clip visual tower per frame: ``[V, C, T, H, W] -> [V, T, D']``.

    Args:
        clip (dict): Kwargs of
            :func:`mafsar_mm.models.clip.build_open_clip`.
        frozen (bool): Freeze the tower (and keep it in eval mode); False
            fine-tunes all of it. Defaults to False.
        with_cp (bool): Gradient checkpointing over the blocks (open_clip's
            ``set_grad_checkpointing``). Defaults to False.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 clip: dict,
                 frozen: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(build_clip_visual(clip), frozen, init_cfg=init_cfg)
        self.with_cp = with_cp
        self.visual.set_grad_checkpointing(with_cp)

    def encode_frames(self, frames: Tensor, text: Optional[Tensor],
                      num_frames: int) -> Tensor:
        """The tower on every frame (``text`` is ignored)."""
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.frozen):
            feats = self.visual(frames)  # [V*T, D']
        if isinstance(feats, tuple):  # output_tokens=True towers
            feats = feats[0]
        return feats
