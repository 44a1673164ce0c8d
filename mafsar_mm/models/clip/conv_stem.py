"""A small convolutional stem in place of a ViT's patch embedding.

Xiao et al., "Early Convolutions Help Transformers See Better" (NeurIPS
2021) replace the ViT's one stride-p patchify convolution with a few
stride-2 3x3 convolutions of the same total stride. The tokens the
transformer sees keep their number and width, so everything after
``visual.conv1`` (class token, positional embedding, blocks, pooling,
FgMA) is unchanged. The tiny CLIP of the synthetic configs uses one:
with the patchify embedding it did not learn shapes within the
pretraining budget (``docs/synthetic_comparison.md``, pretraining).
"""
from typing import Sequence

import torch.nn as nn
from torch import Tensor


def stem_stride(num_hidden: int) -> int:
    """Total stride of a :class:`ConvStem` with ``num_hidden`` hidden
    convolutions (each and the projection halve the image)."""
    return 2**(num_hidden + 1)


class ConvStem(nn.Module):
    """Stride-2 3x3 convolutions with GELU, then a stride-2 3x3 projection
    to the tower width: ``[B, 3, H, W]`` -> ``[B, width, H/p, W/p]`` with
    ``p = 2 ** (len(channels) + 1)``.

    Args:
        width (int): Output channels (the transformer width).
        channels (Sequence[int]): Channels of the hidden convolutions.
    """

    def __init__(self, width: int, channels: Sequence[int]) -> None:
        super().__init__()
        layers, in_ch = [], 3
        for out_ch in channels:
            layers += [nn.Conv2d(in_ch, out_ch, 3, 2, 1), nn.GELU()]
            in_ch = out_ch
        self.stem = nn.Sequential(*layers)
        self.proj = nn.Conv2d(in_ch, width, 3, 2, 1)

    @property
    def patch_size(self) -> int:
        """Total stride (the patch size it stands in for)."""
        return stem_stride(len(self.stem) // 2)  # conv + GELU per layer

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.stem(x))


def add_conv_stem(visual: nn.Module, channels: Sequence[int]) -> None:
    """Replace ``visual.conv1`` of an open_clip ``VisionTransformer`` by a
    :class:`ConvStem` of the same total stride.

    Raises:
        ValueError: If ``2 ** (len(channels) + 1)`` is not the tower's
            patch size.
    """
    patch = visual.conv1.kernel_size[0]
    stride = stem_stride(len(channels))
    if stride != patch:
        depth = patch.bit_length() - 2
        fix = (f'give {depth} hidden channel counts for patch {patch}'
               if depth >= 0 and stem_stride(depth) == patch else
               f'patch_size {patch} is not a power of 2 >= 2, which a '
               'conv stem needs')
        raise ValueError(
            f'conv_stem={list(channels)} has total stride {stride}, the '
            f'visual tower patch_size {patch}; {fix}')
    visual.conv1 = ConvStem(visual.conv1.out_channels, channels)
