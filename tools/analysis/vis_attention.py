"""Draw the last-layer class-token attention over each frame of a video
(MA-FSAR Fig. 1b): the adapted model next to the frozen CLIP.

Examples::

    # query branch (no text)
    python tools/analysis/vis_attention.py --config CONFIG \\
        --checkpoint CKPT --video v.mp4 --out attention.png
    # support branch, with the class text
    python tools/analysis/vis_attention.py --config CONFIG \\
        --checkpoint CKPT --video v.mp4 --class-name 'juggling balls' \\
        --out attention.png
"""
import argparse
import sys


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Class-token attention maps of the last ViT block, '
        'adapted model vs. frozen CLIP, as a PNG grid.')
    parser.add_argument('--config', required=True, help='model config')
    parser.add_argument('--checkpoint', help='trained checkpoint')
    parser.add_argument('--video', required=True, help='input video')
    parser.add_argument(
        '--class-name',
        help='run the support branch with this class text (default: the '
        'query branch, without text)')
    parser.add_argument('--out', default='attention.png', help='output PNG')
    parser.add_argument(
        '--cell-size',
        type=int,
        default=160,
        help='pixels per frame cell (default: 160)')
    parser.add_argument(
        '--device', default='cpu', help='torch device (default: cpu)')
    return parser.parse_args(argv)


def unfused_config(path: str):
    """The config with ``CLIPViTFgMA``'s fused attention off: the maps are
    read from the blocks' ``nn.MultiheadAttention`` (same results up to
    float rounding)."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    if cfg.model.backbone.get('type') == 'CLIPViTFgMA':
        cfg.model.backbone.fused_attn = False
    return cfg


def main(argv=None) -> int:
    """Run the tool."""
    args = parse_args(argv)
    from mafsar_mm.apis import (FewShotInferencer, compute_attention_maps,
                                draw_attention_grid, patch_maps)
    try:
        inferencer = FewShotInferencer(
            unfused_config(args.config), args.checkpoint, device=args.device)
        clip = inferencer.load_clip(args.video)  # uint8 [C, T, H, W]
        maps = compute_attention_maps(
            inferencer.model,
            inferencer.model.data_preprocessor.normalize(clip),
            args.class_name)
    except (FileNotFoundError, ValueError, RuntimeError, TypeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    branch = (f'support, text: {args.class_name!r}'
              if args.class_name else 'query')
    rows = [(f'MA-FSAR ({branch})', patch_maps(maps['adapted'], maps['grid'])),
            ('frozen CLIP', patch_maps(maps['frozen'], maps['grid']))]
    frames = clip.permute(1, 2, 3, 0).numpy()  # [T, H, W, C]
    width, height = draw_attention_grid(
        frames, rows, args.out, cell_size=args.cell_size)
    for name in ('adapted', 'frozen'):
        rows_t = maps[name]  # [T, L_k]
        extras = maps[f'{name}_keys'][1:]
        message = (f'{name}: class-token attention (mean over frames) on '
                   f'itself {rows_t[:, 0].mean():.3f}')
        for i, key in enumerate(extras):
            col = rows_t.shape[1] - len(extras) + i
            message += f', on the {key} token {rows_t[:, col].mean():.3f}'
        print(message)
    print(f'Attention maps ({width}x{height} px) written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
