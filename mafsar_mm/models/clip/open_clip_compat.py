"""The open_clip versions whose visual tower internals the backbones use.

``CLIPViTFgMA`` reads open_clip's private parts: ``VisionTransformer.
_embeds`` and ``._pool`` (open_clip 3.3 ``src/open_clip/transformer.py``)
and the ``nn.MultiheadAttention`` of each ``ResidualAttentionBlock``
(its packed ``in_proj_weight``, ``out_proj``, ``num_heads``). Newer
open_clip versions replace that attention module, so
``requirements/runtime.txt`` pins the range below and
:func:`check_open_clip_tower` stops with an error naming it when a tower
is not built the expected way.
"""
import open_clip
from open_clip.transformer import ResidualAttentionBlock
from torch import nn

from mafsar_mm.utils.errors import InputError

#: The open_clip_torch versions the backbones are tested with (keep equal
#: to requirements/runtime.txt).
SUPPORTED_OPEN_CLIP = '>=3.3,<3.4'


class UnsupportedOpenCLIPError(InputError):
    """The installed open_clip builds towers the backbone cannot adapt
    (a user error: the tools print it as one line)."""


def check_open_clip_tower(visual: nn.Module, user: str) -> None:
    """Check that ``visual`` has the internals ``user`` relies on.

    Args:
        visual (nn.Module): An open_clip ``VisionTransformer``.
        user (str): Who needs them, for the message (e.g.
            ``'CLIPViTFgMA'``).

    Raises:
        UnsupportedOpenCLIPError: If a method or block is not the
            expected kind (another open_clip version).
    """
    problems = [
        f'no VisionTransformer.{name}' for name in ('_embeds', '_pool')
        if not callable(getattr(visual, name, None))
    ]
    blocks = getattr(getattr(visual, 'transformer', None), 'resblocks', [])
    for idx, blk in enumerate(blocks):
        if type(blk) is not ResidualAttentionBlock:
            problems.append(f'block {idx} is {type(blk).__name__}, not '
                            'ResidualAttentionBlock')
        elif not isinstance(getattr(blk, 'attn', None), nn.MultiheadAttention):
            problems.append(f'block {idx}.attn is '
                            f'{type(getattr(blk, "attn", None)).__name__}, '
                            'not nn.MultiheadAttention')
    if not blocks:
        problems.append('no transformer.resblocks')
    if problems:
        shown = '; '.join(problems[:3])
        more = f' (and {len(problems) - 3} more)' if len(problems) > 3 else ''
        raise UnsupportedOpenCLIPError(
            f'{user} needs the visual tower of open_clip_torch'
            f'{SUPPORTED_OPEN_CLIP}, but open_clip_torch '
            f'{open_clip.__version__} built one it cannot adapt: {shown}'
            f'{more}. Install a supported version: pip install '
            f'"open_clip_torch{SUPPORTED_OPEN_CLIP}".')
