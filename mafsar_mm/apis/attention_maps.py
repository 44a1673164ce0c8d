"""Class-token attention maps of the last ViT block (MA-FSAR Fig. 1b).

The weights are read without touching open_clip: while a backbone runs,
hooks on the last block's ``attn`` (``nn.MultiheadAttention``) ask it for
its head-averaged weights (``need_weights=True``) and record them
(``CLIPViTFgMA`` must be built with ``fused_attn=False``). In
:class:`~mafsar_mm.models.backbones.CLIPViTFgMA` the last block attends per
frame over ``[patch tokens + class token (+ GTA token + text token)]``; the
call with the most keys is the one drawn, so for the adapted model the map
is the LMA (support, with the class text) or LSTA (query) attention. The
frozen CLIP map comes from the plain open_clip visual tower (the adapters
never change its weights).
"""
import os.path as osp
from functools import partial
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class AttentionRecorder:
    """Record the attention weights of an ``nn.MultiheadAttention``.

    Use as a context manager; every call of the module inside the block
    returns and records its weights averaged over heads, ``[B, L_q,
    L_k]`` (batch-first). The module's output is unchanged.

    Args:
        attn (nn.MultiheadAttention): The attention module.
    """

    def __init__(self, attn: nn.Module) -> None:
        if not isinstance(attn, nn.MultiheadAttention):
            raise TypeError('Attention maps need an nn.MultiheadAttention, '
                            f'got {type(attn).__name__}.')
        self.attn = attn
        self.weights: List[Tensor] = []
        self._handles = []

    def _pre_hook(self, module: nn.Module, args: tuple,
                  kwargs: dict) -> Tuple[tuple, dict]:
        kwargs = dict(kwargs, need_weights=True, average_attn_weights=True)
        return args, kwargs

    def _hook(self, module: nn.Module, args: tuple, output: tuple) -> None:
        # [B, L_q, L_k] whether the module is batch-first or not
        self.weights.append(output[1].detach().float().cpu())

    def __enter__(self) -> 'AttentionRecorder':
        self.weights = []
        self._handles = [
            self.attn.register_forward_pre_hook(
                self._pre_hook, with_kwargs=True),
            self.attn.register_forward_hook(self._hook)
        ]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def _visual_tower(backbone: nn.Module) -> nn.Module:
    """The open_clip ``VisionTransformer`` of a backbone."""
    visual = getattr(backbone, 'visual', None)
    if visual is None or not hasattr(visual, 'transformer'):
        raise TypeError(
            'Attention maps need a CLIP ViT backbone with an open_clip '
            f'visual tower (CLIPViTFgMA, CLIPVisual), got '
            f'{type(backbone).__name__}.')
    return visual


def check_unfused(backbone: nn.Module) -> None:
    """Raise unless every attention of the backbone runs through the
    blocks' ``nn.MultiheadAttention``, which :class:`AttentionRecorder`
    hooks (``CLIPViTFgMA(fused_attn=False)``, same results up to float
    rounding)."""
    if getattr(backbone, 'fused_attn', False):
        raise ValueError(
            'Attention maps need the blocks\' nn.MultiheadAttention; build '
            'the model with model.backbone.fused_attn=False (e.g. '
            "--cfg-options model.backbone.fused_attn=False).")


def _frame_attention(weights: List[Tensor], num_frames: int,
                     num_tokens: int) -> Tensor:
    """Pick the per-frame attention of the last block among the recorded
    calls: batch ``T``, ``N+1`` queries, the most keys."""
    calls = [
        w for w in weights
        if w.shape[0] == num_frames and w.shape[1] == num_tokens
    ]
    if not calls:
        raise RuntimeError(
            'No per-frame attention of the last block was recorded; got '
            f'calls of shapes {[tuple(w.shape) for w in weights]}.')
    return max(calls, key=lambda w: w.shape[2])


def class_token_attention(tower: nn.Module, run, num_frames: int) -> Tensor:
    """The last block's class-token attention of one video.

    Args:
        tower (nn.Module): open_clip visual tower whose last block is
            hooked.
        run (callable): Runs the forward pass (no arguments).
        num_frames (int): Frames T of the video.

    Returns:
        Tensor: ``[T, L_k]``: per frame, the class token's attention over
        the keys (class token, the patches in raster order, then the
        extra tokens if any); each row sums to 1.
    """
    grid = tuple(tower.grid_size)
    num_tokens = grid[0] * grid[1] + 1
    with AttentionRecorder(tower.transformer.resblocks[-1].attn) as rec:
        run()
    attn = _frame_attention(rec.weights, num_frames, num_tokens)
    return attn[:, 0, :]  # class-token queries: [T, L_k]


@torch.no_grad()
def compute_attention_maps(model: nn.Module,
                           clip: Tensor,
                           class_name: Optional[str] = None) -> dict:
    """Last-layer class-token attention of the adapted model and of the
    frozen CLIP for one video.

    Args:
        model (nn.Module): A :class:`FewShotRecognizer` with a CLIP ViT
            backbone (``CLIPViTFgMA`` built with ``fused_attn=False``), in
            eval mode.
        clip (Tensor): Normalised frames ``[C, T, H, W]`` (on the model's
            device).
        class_name (str, optional): Run the support branch with this
            class's text (LMA); None runs the query branch (LSTA).
            Defaults to None.

    The frozen row runs the backbone's open_clip tower alone. For
    :class:`CLIPViTFgMA` that is exactly the frozen CLIP; for a
    :class:`CLIPVisual` backbone it is the (possibly fine-tuned) tower,
    the same network as the adapted row.

    Returns:
        dict: ``adapted`` and ``frozen``, each ``[T, L_k]`` class-token
        attention rows (summing to 1); ``grid`` (patch rows, columns);
        ``adapted_keys`` and ``frozen_keys``: names of the keys beyond the
        patches (``'cls'`` first, then e.g. ``'gta'``, ``'text'``).
    """
    backbone = model.backbone
    tower = _visual_tower(backbone)
    check_unfused(backbone)
    imgs = clip[None]  # [1, C, T, H, W]
    num_frames = clip.shape[1]
    if class_name is None:
        run_adapted = partial(model.encode_videos, imgs)
    else:
        if model.encode_text([class_name]) is None:
            raise ValueError('class_name needs a model with a text '
                             'encoder.')
        run_adapted = partial(model.encode_videos, imgs, [class_name])
    adapted = class_token_attention(tower, run_adapted, num_frames)
    frames = clip.transpose(0, 1)  # [T, C, H, W]
    frozen = class_token_attention(tower, lambda: tower(frames), num_frames)
    grid = tuple(tower.grid_size)
    return dict(
        adapted=adapted,
        frozen=frozen,
        grid=grid,
        adapted_keys=_extra_key_names(backbone, adapted.shape[1], grid,
                                      class_name is not None),
        frozen_keys=_extra_key_names(None, frozen.shape[1], grid, False))


def _extra_key_names(backbone: nn.Module, num_keys: int, grid: Tuple[int, int],
                     with_text: bool) -> List[str]:
    """Names of the non-patch keys: ``'cls'``, then the extra tokens of
    :class:`CLIPViTFgMA`'s LMA/LSTA (``'gta'``, ``'text'``)."""
    extras = num_keys - grid[0] * grid[1] - 1
    names = []
    if getattr(backbone, 'with_lma', False):
        if getattr(backbone, 'with_gta', False) and \
                getattr(backbone, 'gta_residual', '') == 'token':
            names.append('gta')
        if with_text:
            names.append('text')
    if len(names) != extras:
        names = [f'extra{i}' for i in range(extras)]
    return ['cls'] + names


def patch_maps(rows: Tensor, grid: Tuple[int, int]) -> Tensor:
    """Class-token attention over the patches as images.

    Args:
        rows (Tensor): ``[T, L_k]`` attention rows (class token first).
        grid (tuple[int, int]): Patch rows and columns.

    Returns:
        Tensor: ``[T, rows, cols]``, the patch part of each row.
    """
    num = grid[0] * grid[1]
    return rows[:, 1:1 + num].reshape(-1, grid[0], grid[1])


def grid_image_size(num_frames: int,
                    cell_size: int = 160,
                    title_height: int = 24,
                    num_rows: int = 2) -> Tuple[int, int]:
    """Pixel size ``(width, height)`` of :func:`draw_attention_grid`'s
    image.

    Args:
        num_frames (int): Frames (columns).
        cell_size (int): Side of one frame cell in pixels. Defaults to 160.
        title_height (int): Height of each row's title band in pixels.
            Defaults to 24.
        num_rows (int): Rows of the grid. Defaults to 2.
    """
    return num_frames * cell_size, num_rows * (cell_size + title_height)


def _overlay(frame: np.ndarray, heat: np.ndarray, cmap,
             alpha: float) -> np.ndarray:
    """Blend a [0, 1] heat map (upsampled to the frame) over a frame."""
    height, width = frame.shape[:2]
    heat = torch.as_tensor(heat, dtype=torch.float32)[None, None]
    heat = F.interpolate(
        heat, size=(height, width), mode='bilinear',
        align_corners=False)[0, 0].numpy()
    span = heat.max() - heat.min()
    heat = (heat - heat.min()) / span if span > 0 else np.zeros_like(heat)
    colour = cmap(heat)[..., :3]
    return (1 - alpha) * frame / 255.0 + alpha * colour


def draw_attention_grid(frames: np.ndarray,
                        rows: Sequence[Tuple[str, Tensor]],
                        out_file: str,
                        cell_size: int = 160,
                        title_height: int = 24,
                        alpha: float = 0.5,
                        cmap: str = 'jet') -> Tuple[int, int]:
    """Save a PNG with one row of attention overlays per model.

    Args:
        frames (np.ndarray): uint8 frames ``[T, H, W, 3]`` (RGB).
        rows (Sequence[tuple[str, Tensor]]): ``(title, maps [T, h, w])``
            per row.
        out_file (str): Output PNG path (its directory is created).
        cell_size (int): Side of one frame cell in pixels. Defaults to 160.
        title_height (int): Height of each row's title band in pixels.
            Defaults to 24.
        alpha (float): Weight of the heat map in the overlay. Defaults to
            0.5.
        cmap (str): Matplotlib colour map. Defaults to 'jet'.

    Returns:
        tuple[int, int]: The image's ``(width, height)`` in pixels, as
        :func:`grid_image_size`.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmengine.utils import mkdir_or_exist

    num_frames = len(frames)
    width, height = grid_image_size(num_frames, cell_size, title_height,
                                    len(rows))
    dpi = 100
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    colours = plt.get_cmap(cmap)
    band = cell_size + title_height
    for r, (title, maps) in enumerate(rows):
        if len(maps) != num_frames:
            raise ValueError(f'Row {title!r} has {len(maps)} maps for '
                             f'{num_frames} frames.')
        top = height - r * band  # pixels from the bottom
        fig.text(
            0.005, (top - title_height / 2) / height,
            title,
            va='center',
            ha='left',
            fontsize=max(6, title_height * 0.45))
        for t in range(num_frames):
            ax = fig.add_axes([
                t * cell_size / width, (top - band) / height,
                cell_size / width, cell_size / height
            ])
            ax.imshow(
                _overlay(frames[t], maps[t].cpu().numpy(), colours, alpha),
                interpolation='bilinear')
            ax.set_axis_off()
    if osp.dirname(out_file):
        mkdir_or_exist(osp.dirname(osp.abspath(out_file)))
    fig.savefig(out_file, dpi=dpi)
    plt.close(fig)
    return width, height
