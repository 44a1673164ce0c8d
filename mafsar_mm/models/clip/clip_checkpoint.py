"""Say what a CLIP weights file is when it cannot be loaded.

:func:`check_file_format` looks at a file's first bytes before anything
unpickles it (a text file, an HTML error page saved as ``.pt``, an empty
file); :func:`explain_load_failure` turns a failed load into one line
that says which architecture the file holds and which one the config
builds (``... holds a ViT-B-32 state dict (visual width 768, ...), the
config builds a custom CLIP (visual width 128, ...)``). The layout read
here is open_clip's (``visual.conv1``, ``visual.transformer.resblocks.N``,
``visual.positional_embedding``), as in ``open_clip/model.py``.
"""
import math
import pickle
import re
import struct
import zipfile
from typing import Dict, Optional, Tuple, Union

import open_clip
import torch

from mafsar_mm.utils.errors import InputError
from .conv_stem import stem_options, stem_stride

#: Bytes read to recognise a file's format.
_HEAD_BYTES = 64
_BLOCK = re.compile(r'^visual\.transformer\.resblocks\.(\d+)\.')
#: a ConvStem stage's stride-2 convolution, and a residual block of stage 0
_STEM = re.compile(r'^visual\.conv1\.stem\.\d+\.0\.weight$')
_STEM_BLOCK = re.compile(r'^visual\.conv1\.stem\.0\.\d+\.body\.0\.weight$')
_GLOBAL = re.compile(r'Unsupported global: GLOBAL ([\w.]+)')


class CLIPCheckpointError(InputError):
    """A CLIP weights file that is not a checkpoint of the configured
    architecture (a ``ValueError``); the message says what it holds."""


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the head
        try:
            text = head[:-3].decode('utf-8')
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in '\t\r\n' for ch in text)


def _is_safetensors(head: bytes) -> bool:
    """safetensors: an 8-byte little-endian header size, then JSON."""
    if len(head) < 9:
        return False
    size = struct.unpack('<Q', head[:8])[0]
    return 0 < size < 10**8 and head[8:9] == b'{'


def check_file_format(path: str) -> None:
    """Refuse a file that is no torch, safetensors or numpy checkpoint
    without unpickling it.

    Args:
        path (str): The CLIP weights file.

    Raises:
        CLIPCheckpointError: If the file is empty, text or of an unknown
            binary format.
    """
    with open(path, 'rb') as f:
        head = f.read(_HEAD_BYTES)
    if zipfile.is_zipfile(path) or _is_safetensors(head):
        return  # torch >= 1.6 archives, TorchScript, .npz; safetensors
    if head[:1] == b'\x80':
        return  # a pickle (torch's legacy format)
    expected = ('expected a torch checkpoint (.pt/.pth/.bin state dict or '
                'an OpenAI TorchScript archive) or a .safetensors file')
    if not head:
        what = 'is empty (0 bytes)'
    elif _looks_like_text(head):
        first = head.decode('utf-8', 'replace').splitlines()[0][:40]
        what = f'is a text file (it starts with {first!r})'
    else:
        what = (f'is not a torch checkpoint (first bytes '
                f'{head[:8].hex(" ")})')
    raise CLIPCheckpointError(f'CLIP weights file {path!r} {what}; '
                              f'{expected}.')


def is_torchscript_archive(path: str) -> bool:
    """OpenAI's original checkpoints (e.g. ``ViT-B-32.pt``) are TorchScript
    archives: zip files with a ``code/`` folder or ``constants.pkl``."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any('/code/' in name or name.endswith('constants.pkl')
                   for name in zf.namelist())


def _vit_shape(state: Dict[str, torch.Tensor]) -> Optional[dict]:
    """Visual width, layers, patch size and image size of an open_clip
    ViT state dict (None if it has no ViT visual tower)."""
    conv = state.get('visual.conv1.weight')
    pos = state.get('visual.positional_embedding')
    stem = [k for k in state if _STEM.match(k)]
    if stem and 'visual.conv1.proj.weight' in state:  # a ConvStem
        conv = state['visual.conv1.proj.weight']
        patch = stem_stride(len(stem))
    elif isinstance(conv, torch.Tensor) and conv.dim() == 4:
        patch = conv.shape[-1]
    else:
        return None
    blocks = {int(m.group(1)) for m in map(_BLOCK.match, state) if m}
    shape = dict(width=conv.shape[0], layers=len(blocks), patch=patch)
    if stem:
        shape['conv_stem'] = len(stem)
        shape['stem_blocks'] = sum(map(bool, map(_STEM_BLOCK.match, state)))
    if isinstance(pos, torch.Tensor) and pos.dim() == 2:
        grid = math.isqrt(max(pos.shape[0] - 1, 0))
        shape['image'] = grid * patch
    return shape


def model_vit_shape(model: torch.nn.Module) -> Optional[dict]:
    """:func:`_vit_shape` of a built open_clip model."""
    return _vit_shape(model.state_dict())


def _describe_shape(shape: dict) -> str:
    text = (f'visual width {shape["width"]}, {shape["layers"]} layers, '
            f'patch {shape["patch"]}')
    if shape.get('conv_stem'):
        text += f' (a {shape["conv_stem"] + 1}-conv stem'
        if shape.get('stem_blocks'):
            text += f', {shape["stem_blocks"]} residual blocks per stage'
        text += ')'
    if 'image' in shape:
        text += f', {shape["image"]} px'
    return text


def _named_architecture(shape: dict) -> Optional[str]:
    """The open_clip name whose ViT has this shape (the documented names
    first, then the shortest), or None."""
    if shape.get('conv_stem'):  # no open_clip architecture has one
        return None
    from .open_clip_builder import SUPPORTED_MODEL_NAMES
    names = list(SUPPORTED_MODEL_NAMES) + sorted(
        open_clip.list_models(), key=len)
    for name in names:
        vision = (open_clip.get_model_config(name) or {}).get('vision_cfg', {})
        image = vision.get('image_size')
        if (vision.get('width') == shape['width']
                and vision.get('layers') == shape['layers']
                and vision.get('patch_size') == shape['patch']
                and image == shape.get('image', image)
                and not vision.get('timm_model_name')):
            return name
    return None


def describe_state_dict(checkpoint) -> Tuple[str, Optional[dict]]:
    """What a loaded checkpoint holds, in a few words.

    Args:
        checkpoint: The object ``torch.load`` returned.

    Returns:
        tuple[str, dict | None]: e.g. ``'a ViT-B-32 state dict (visual
        width 768, 12 layers, patch 32, 224 px)'``, and the ViT shape
        (None without a ViT visual tower).
    """
    if isinstance(checkpoint, torch.jit.ScriptModule):
        checkpoint = checkpoint.state_dict()
    if not isinstance(checkpoint, dict):
        return f'a {type(checkpoint).__name__}, not a state dict', None
    if isinstance(checkpoint.get('state_dict'), dict):
        if 'meta' in checkpoint or 'message_hub' in checkpoint:
            return ('an MMEngine training checkpoint, not CLIP weights '
                    '(give it to tools/test.py as CHECKPOINT or as '
                    'load_from)'), None
        checkpoint = checkpoint['state_dict']
    state = {
        (k[7:] if k.startswith('module.') else k): v
        for k, v in checkpoint.items()
    }
    shape = _vit_shape(state)
    if shape is not None:
        name = _named_architecture(shape)
        prefix = f'a {name} state dict' if name else 'a CLIP ViT state dict'
        return f'{prefix} ({_describe_shape(shape)})', shape
    if any(k.startswith('visual.attnpool.') for k in state):
        what = 'a CLIP with a ResNet visual tower (only ViTs are supported)'
    elif any(k.startswith('visual.trunk.') for k in state):
        what = 'a CLIP with a timm visual tower (only ViTs are supported)'
    elif any(k.startswith('backbone.') for k in state):
        what = 'a few-shot model state dict (backbone.*), not CLIP weights'
    else:
        keys = ', '.join(list(state)[:3]) or 'none'
        what = f'a state dict without a CLIP visual tower (first keys: {keys})'
    return what, None


def _safe_load(path: str, mmap: bool = False):
    """The checkpoint, for the description only (weights_only; None if
    even that fails). ``mmap`` maps a zip-format file instead of reading
    it (a quick look at a large file)."""
    try:
        if str(path).endswith('.safetensors'):
            from safetensors.torch import load_file
            return load_file(path, device='cpu')
        if is_torchscript_archive(path):
            return torch.jit.load(path, map_location='cpu')
        if zipfile.is_zipfile(path):
            return torch.load(
                path, map_location='cpu', weights_only=True, mmap=mmap)
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception:
        return None


def _same_tower(a: dict, b: dict) -> bool:
    """Same visual width, depth and patch size (the image size may differ:
    open_clip resizes the position embedding when loading)."""
    return all(a.get(k) == b.get(k) for k in ('width', 'layers', 'patch')) \
        and all(a.get(k, 0) == b.get(k, 0)
                for k in ('conv_stem', 'stem_blocks'))


def config_vit_shape(
        vision_cfg: dict,
        conv_stem: Optional[Union[list, dict]] = None) -> Optional[dict]:
    """:func:`_vit_shape` of an open_clip ``vision_cfg`` (None for
    non-ViT towers); ``conv_stem``: the model's ``conv_stem`` (hidden
    channels or :func:`~.conv_stem.stem_options`)."""
    if not vision_cfg or vision_cfg.get('timm_model_name') or isinstance(
            vision_cfg.get('layers'), (list, tuple)):
        return None
    shape = dict(
        width=vision_cfg.get('width', 768),
        layers=vision_cfg.get('layers', 12),
        patch=vision_cfg.get('patch_size', 16))
    if conv_stem:
        options = stem_options(conv_stem)
        shape['conv_stem'] = len(options['channels'])
        shape['stem_blocks'] = options['blocks']
    if vision_cfg.get('image_size'):
        shape['image'] = vision_cfg['image_size']
    return shape


def check_architecture(path: str, expected: Optional[dict],
                       target: str) -> None:
    """Refuse, before the model is built, a weights file whose visual
    tower is not the configured one (a quick, memory-mapped look).

    Args:
        path (str): The weights file (its format already checked).
        expected (dict, optional): :func:`config_vit_shape` of the
            configured model; None skips the check.
        target (str): What the config builds, for the message.

    Raises:
        CLIPCheckpointError: If the file holds another architecture or no
            CLIP ViT at all.
    """
    if expected is None:
        return
    loaded = _safe_load(path, mmap=True)
    if loaded is None:
        return  # the load says why, with the full message
    held, shape = describe_state_dict(loaded)
    if shape is not None and _same_tower(shape, expected):
        return
    raise CLIPCheckpointError(
        f'CLIP weights file {path!r} holds {held}, the config builds '
        f'{target} ({_describe_shape(expected)}); give the weights of that '
        'architecture (--clip-weights PATH) or change clip.model_name / '
        'clip.model_cfg.')


def explain_load_failure(path: str, model: torch.nn.Module, target: str,
                         err: Exception) -> CLIPCheckpointError:
    """One-line error for a CLIP weights file that did not load.

    Args:
        path (str): The file.
        model (torch.nn.Module): The open_clip model it was loaded into.
        target (str): What the config builds, e.g. ``'ViT-B-16'`` or
            ``'a custom CLIP (model_cfg)'``.
        err (Exception): The loading error.

    Returns:
        CLIPCheckpointError: The error to raise (``from None``).
    """
    text = str(err)
    if 'Weights only load failed' in text or isinstance(
            err, pickle.UnpicklingError):
        found = _GLOBAL.search(text)
        what = ('holds pickled Python objects besides tensors' +
                (f' ({found.group(1)})' if found else '') +
                ', which are not loaded (unpickling could run code); '
                'expected a plain state dict of tensors')
        return CLIPCheckpointError(f'CLIP weights file {path!r} {what}.')
    loaded = _safe_load(path)
    if loaded is None:
        first = ' '.join(text.split())[:200]
        return CLIPCheckpointError(
            f'CLIP weights file {path!r} cannot be read as a checkpoint '
            f'({type(err).__name__}: {first}).')
    held, shape = describe_state_dict(loaded)
    want = model_vit_shape(model)
    built = target + (f' ({_describe_shape(want)})' if want else '')
    line = f'CLIP weights file {path!r} holds {held}, the config builds '
    line += built
    if want is not None and shape is not None and _same_tower(want, shape):
        # the same visual tower, other keys (e.g. the text tower)
        first = ' '.join(text.split())[:200]
        line += f' (the keys do not match: {first})'
    return CLIPCheckpointError(
        line + '; give the weights of that architecture (--clip-weights '
        'PATH) or change clip.model_name / clip.model_cfg.')
