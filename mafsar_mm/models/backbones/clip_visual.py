"""Plain open_clip visual tower applied frame by frame (baselines: frozen
CLIP features, or full fine-tuning as in CLIP-FSAR,
github.com/alibaba-mmai-research/CLIP-FSAR)."""
from typing import Optional

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..utils import build_clip_visual


@MODELS.register_module()
class CLIPVisual(BaseModule):
    """open_clip visual tower per frame: ``[V, C, T, H, W] -> [V, T, D']``.

    Args:
        clip (dict): Kwargs of
            :func:`mafsar_mm.models.utils.build_open_clip`.
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
        super().__init__(init_cfg=init_cfg)
        self.visual = build_clip_visual(clip)
        self.output_dim = self.visual.output_dim
        self.embed_dims = self.visual.transformer.width
        self.frozen = frozen
        self.with_cp = with_cp
        self.visual.set_grad_checkpointing(with_cp)
        if frozen:
            for param in self.visual.parameters():
                param.requires_grad_(False)
            self.visual.eval()

    #: Features never depend on the class text.
    reads_text = False

    def train(self, mode: bool = True) -> 'CLIPVisual':
        """Set the mode; a frozen tower stays in eval mode."""
        super().train(mode)
        if self.frozen:
            self.visual.eval()
        return self

    def forward(self, imgs: Tensor, text: Optional[Tensor] = None) -> Tensor:
        """Encode every frame.

        Args:
            imgs (Tensor): ``[V, C, T, H, W]`` normalised frames.
            text (Tensor, optional): Ignored (same interface as
                :class:`CLIPViTFgMA`). Defaults to None.

        Returns:
            Tensor: ``[V, T, D']`` frame features.
        """
        if imgs.dim() != 5:
            raise ValueError('imgs must be [V, C, T, H, W], got shape '
                             f'{tuple(imgs.shape)}')
        num_videos, chans, num_frames, height, width = imgs.shape
        # [V, C, T, H, W] -> [V*T, C, H, W]
        x = imgs.transpose(1, 2).reshape(num_videos * num_frames, chans,
                                         height, width)
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.frozen):
            feats = self.visual(x)  # [V*T, D']
        if isinstance(feats, tuple):  # output_tokens=True towers
            feats = feats[0]
        return feats.reshape(num_videos, num_frames, -1)
