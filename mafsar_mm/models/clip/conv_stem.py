"""A small convolutional stem in place of a ViT's patch embedding.

Xiao et al., "Early Convolutions Help Transformers See Better" (NeurIPS
2021) replace the ViT's one stride-p patchify convolution with a few
stride-2 3x3 convolutions (with BatchNorm) of the same total stride. The
tokens the transformer sees keep their number and width, so everything
after ``visual.conv1`` (class token, positional embedding, blocks,
pooling, FgMA) is unchanged. The tiny CLIP of the synthetic configs uses
one, each stage followed by residual 3x3 convolutions (``blocks``, as in
a ResNet stage): with the patchify embedding, or a stem of only the
stride-2 convolutions, it did not learn shapes within the pretraining
budget (``docs/tiny_clip.md``).

A stem is configured in the CLIP ``model_cfg`` as ``conv_stem=[32, 64]``
(hidden channels; no norm, no residual blocks) or
``conv_stem=dict(channels=[32, 64], blocks=2, norm='bn')``.
"""
from typing import Optional, Sequence, Union

import torch.nn as nn
from torch import Tensor

#: supported ``norm`` values -> layer
NORMS = {None: None, 'bn': nn.BatchNorm2d}


def stem_stride(num_hidden: int) -> int:
    """Total stride of a :class:`ConvStem` with ``num_hidden`` hidden
    stages (each and the projection halve the image)."""
    return 2**(num_hidden + 1)


def stem_options(conv_stem: Union[Sequence[int], dict]) -> dict:
    """``conv_stem`` of a ``model_cfg`` as :class:`ConvStem` keyword
    arguments (``channels``, ``blocks``, ``norm``).

    Raises:
        ValueError: If it has unknown keys or an unknown ``norm``.
    """
    if not isinstance(conv_stem, dict):
        conv_stem = dict(channels=list(conv_stem))
    unknown = set(conv_stem) - {'channels', 'blocks', 'norm'}
    if unknown or 'channels' not in conv_stem:
        raise ValueError(
            f'conv_stem={conv_stem!r}: expected a list of channels or a '
            "dict with 'channels' and optionally 'blocks' and 'norm'")
    options = {'blocks': 0, 'norm': None, **conv_stem}
    if options['norm'] not in NORMS:
        raise ValueError(f"conv_stem norm {options['norm']!r} is not "
                         f'supported; supported: {list(NORMS)}')
    options['channels'] = list(options['channels'])
    return options


def _conv_norm(in_ch: int, out_ch: int, stride: int,
               norm: Optional[str]) -> list:
    """A 3x3 convolution (bias only without a norm), its norm, GELU."""
    layers = [nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=norm is None)]
    if norm is not None:
        layers.append(NORMS[norm](out_ch))
    return layers + [nn.GELU()]


class ResidualConv(nn.Module):
    """``x + GELU(norm(conv3x3(x)))``: one residual block of a stage.

    Args:
        channels (int): Input and output channels.
        norm (str, optional): ``'bn'`` or None.
    """

    def __init__(self, channels: int, norm: Optional[str]) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv_norm(channels, channels, 1, norm))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ConvStem(nn.Module):
    """Stages of a stride-2 3x3 convolution (norm, GELU) and ``blocks``
    :class:`ResidualConv`, then a stride-2 3x3 projection to the tower
    width: ``[B, 3, H, W]`` -> ``[B, width, H/p, W/p]`` with
    ``p = 2 ** (len(channels) + 1)``.

    Args:
        width (int): Output channels (the transformer width).
        channels (Sequence[int]): Channels of the hidden stages.
        blocks (int): Residual blocks per stage. Defaults to 0.
        norm (str, optional): ``'bn'`` (BatchNorm) or None. Defaults to
            None.
    """

    def __init__(self,
                 width: int,
                 channels: Sequence[int],
                 blocks: int = 0,
                 norm: Optional[str] = None) -> None:
        super().__init__()
        stages, in_ch = [], 3
        for out_ch in channels:
            stages.append(nn.Sequential(
                *_conv_norm(in_ch, out_ch, 2, norm),
                *[ResidualConv(out_ch, norm) for _ in range(blocks)]))
            in_ch = out_ch
        self.stem = nn.Sequential(*stages)
        self.proj = nn.Conv2d(in_ch, width, 3, 2, 1)

    @property
    def patch_size(self) -> int:
        """Total stride (the patch size it stands in for)."""
        return stem_stride(len(self.stem))

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.stem(x))


def add_conv_stem(visual: nn.Module,
                  conv_stem: Union[Sequence[int], dict]) -> None:
    """Replace ``visual.conv1`` of an open_clip ``VisionTransformer`` by a
    :class:`ConvStem` of the same total stride.

    Args:
        visual (nn.Module): The open_clip visual tower.
        conv_stem (list | dict): Hidden channels, or a dict of
            :class:`ConvStem` arguments (:func:`stem_options`).

    Raises:
        ValueError: If ``2 ** (len(channels) + 1)`` is not the tower's
            patch size.
    """
    options = stem_options(conv_stem)
    channels = options['channels']
    patch = visual.conv1.kernel_size[0]
    stride = stem_stride(len(channels))
    if stride != patch:
        depth = patch.bit_length() - 2
        fix = (f'give {depth} hidden channel counts for patch {patch}'
               if depth >= 0 and stem_stride(depth) == patch else
               f'patch_size {patch} is not a power of 2 >= 2, which a '
               'conv stem needs')
        raise ValueError(
            f'conv_stem={channels} has total stride {stride}, the '
            f'visual tower patch_size {patch}; {fix}')
    visual.conv1 = ConvStem(visual.conv1.out_channels, **options)
