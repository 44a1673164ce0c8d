"""What the CLIP visual backbones share: an open_clip visual tower applied
frame by frame, ``[V, C, T, H, W] -> [V, T, D']``."""
from abc import ABCMeta, abstractmethod
from typing import Optional

from mmengine.model import BaseModule
from torch import Tensor, nn


class BaseCLIPTower(BaseModule, metaclass=ABCMeta):
    """An open_clip visual tower (``self.visual``, parameter names
    open_clip's) that encodes every frame of a batch of videos.

    ``forward`` checks the input, folds time into the batch, calls
    :meth:`encode_frames` and unfolds the result; a frozen tower is kept
    in eval mode (no patch dropout, deterministic).

    Args:
        visual (nn.Module): The open_clip visual tower.
        frozen (bool): Freeze the tower (and keep it in eval mode).
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    #: Whether support features depend on the class text.
    reads_text = False

    def __init__(self,
                 visual: nn.Module,
                 frozen: bool,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.visual = visual
        self.embed_dims = visual.transformer.width
        self.output_dim = visual.output_dim
        self.frozen = frozen
        if frozen:
            for param in self.visual.parameters():
                param.requires_grad_(False)
            self.visual.eval()

    def train(self, mode: bool = True) -> 'BaseCLIPTower':
        """Set the mode; a frozen tower stays in eval mode."""
        super().train(mode)
        if self.frozen:
            self.visual.eval()
        return self

    def forward(self, imgs: Tensor, text: Optional[Tensor] = None) -> Tensor:
        """Encode videos into per-frame CLIP features.

        Args:
            imgs (Tensor): ``[V, C, T, H, W]`` normalised frames.
            text (Tensor, optional): ``[V, D']`` class text feature of each
                video, for a tower that :attr:`reads_text`; None for query
                videos. Defaults to None.

        Returns:
            Tensor: ``[V, T, D']`` frame features.
        """
        if imgs.dim() != 5:
            raise ValueError('imgs must be [V, C, T, H, W], got shape '
                             f'{tuple(imgs.shape)}')
        num_videos, chans, num_frames, height, width = imgs.shape
        self.check_text(text, num_videos)
        # [V, C, T, H, W] -> [V*T, C, H, W]
        frames = imgs.transpose(1, 2).reshape(num_videos * num_frames, chans,
                                              height, width)
        feats = self.encode_frames(frames, text, num_frames)  # [V*T, D']
        return feats.reshape(num_videos, num_frames, -1)

    def check_text(self, text: Optional[Tensor], num_videos: int) -> None:
        """Check ``text`` for ``num_videos`` videos (raise a ValueError);
        the default accepts anything (the text is ignored)."""

    @abstractmethod
    def encode_frames(self, frames: Tensor, text: Optional[Tensor],
                      num_frames: int) -> Tensor:
        """Encode ``[V*T, C, H, W]`` frames (video-major) into
        ``[V*T, D']`` features."""
