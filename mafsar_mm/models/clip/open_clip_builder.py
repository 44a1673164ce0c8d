"""Build open_clip CLIP models: named architectures with pretrained weights
(a tag or a local file) or small custom models with random init.

Weights are found by :mod:`.clip_weights` (open_clip's tag registry and
caches; :class:`CLIPWeightsNotFoundError` says what to put where) and a
file that does not fit is described by :mod:`.clip_checkpoint`
(:class:`CLIPCheckpointError`: what the file holds, what was expected).
"""
from contextlib import contextmanager
from contextvars import ContextVar
from copy import deepcopy
from typing import Callable, Iterator, List, Optional, Union

import open_clip
import torch
from torch import Tensor

from .clip_checkpoint import (CLIPCheckpointError, check_file_format,
                              explain_load_failure, is_torchscript_archive)
from .clip_weights import (CLIPWeightsNotFoundError, _custom_checkpoint,
                           _resolve_pretrained, check_clip_weights, clean_name)
from .conv_stem import add_conv_stem

# re-exported: callers import them from here
__all__ = [
    'CLIPCheckpointError', 'CLIPWeightsNotFoundError', 'TINY_CLIP_CFG',
    'SUPPORTED_MODEL_NAMES', 'build_open_clip', 'build_clip_part',
    'build_clip_visual', 'check_clip_weights', 'get_tokenizer',
    'share_clip_models', 'tokenize'
]

#: A tiny randomly initialised CLIP (ViT visual tower, 2 layers, width 64,
#: 64x64 input, 16x16 patches -> 16 patch tokens) for tests and quick
#: starts. Same structure as ViT-B/32, nothing to download.
TINY_CLIP_CFG = dict(
    embed_dim=64,
    vision_cfg=dict(
        image_size=64, layers=2, width=64, patch_size=16, head_width=32),
    text_cfg=dict(
        context_length=77, vocab_size=49408, width=64, heads=2, layers=2))

#: Architectures this project documents and tests (any open_clip name with
#: a standard ViT visual tower works).
SUPPORTED_MODEL_NAMES = ('ViT-B-32', 'ViT-B-16', 'ViT-L-14')

# keys of OpenAI's TorchScript state dicts that open_clip models lack
_OPENAI_EXTRA_KEYS = ('input_resolution', 'context_length', 'vocab_size',
                      'attn_mask')


def _load_weights(model: torch.nn.Module,
                  path: str,
                  target: str,
                  weights_only: bool = True) -> None:
    """Load a full CLIP checkpoint into ``model`` (strict).

    Everything but OpenAI TorchScript files goes through open_clip's own
    ``load_checkpoint`` (state dicts, safetensors, third party layouts,
    position embedding resizing). TorchScript files are read here with
    ``torch.jit.load``: open_clip 3.3's ``load_state_dict`` passes them to
    ``torch.load``, which refuses TorchScript with ``weights_only=True``,
    and keeps the ``attn_mask`` of scripted open_clip models, which
    open_clip models hold as a non-persistent buffer. A file that is no
    checkpoint, or one of another architecture, is one
    :class:`CLIPCheckpointError` saying what the file holds and what
    ``target`` (the configured model) is.
    """
    check_file_format(path)  # before anything unpickles it
    try:
        if is_torchscript_archive(path):
            state_dict = torch.jit.load(path, map_location='cpu').state_dict()
            for key in _OPENAI_EXTRA_KEYS:
                state_dict.pop(key, None)
            model.load_state_dict(state_dict, strict=True)
        else:
            open_clip.load_checkpoint(
                model, path, strict=True, weights_only=weights_only)
    except Exception as err:
        raise explain_load_failure(path, model, target, err) from None


def build_open_clip(model_name: Optional[str] = None,
                    pretrained: Optional[str] = None,
                    model_cfg: Optional[dict] = None,
                    quick_gelu: Optional[bool] = None,
                    cache_dir: Optional[str] = None,
                    weights_only: bool = True,
                    **kwargs) -> open_clip.CLIP:
    """Build an open_clip CLIP model.

    Give exactly one of ``model_name`` (a named open_clip architecture such
    as ``'ViT-B-32'``, ``'ViT-B-16'`` or ``'ViT-L-14'``) and ``model_cfg``
    (the keyword arguments of ``open_clip.CLIP``, e.g.
    :data:`TINY_CLIP_CFG`).

    ``pretrained`` is an open_clip tag (``'openai'``, ``'laion2b_s34b_b79k'``,
    ...), a local checkpoint file (an OpenAI TorchScript ``.pt``, an
    open_clip state dict ``.bin``/``.pt`` or ``.safetensors``), or None for
    random init. Tags are found in open_clip's caches first (no network
    access), else downloaded when their host answers one quick probe;
    with ``HF_HUB_OFFLINE=1`` only the caches are looked at.

    QuickGELU: OpenAI's weights were trained with QuickGELU, which
    open_clip's plain names (``'ViT-B-32'``) do not use. With
    ``quick_gelu=None`` (auto) it is switched on when the tag's registry
    entry asks for it (all ``'openai'`` tags) or when ``pretrained`` is an
    OpenAI TorchScript file (named and custom models); names ending in
    ``-quickgelu`` always use it.
    Set it explicitly for other local files, and when you build with
    ``pretrained=None`` but later load a checkpoint fine-tuned from OpenAI
    weights.

    Args:
        model_name (str, optional): open_clip architecture name. Defaults
            to None.
        pretrained (str, optional): Tag or local file. Defaults to None.
        model_cfg (dict, optional): ``open_clip.CLIP`` kwargs (``embed_dim``,
            ``vision_cfg``, ``text_cfg``, optional ``quick_gelu``) of a
            custom model, plus optionally ``conv_stem`` (hidden channel
            counts of a :class:`~.conv_stem.ConvStem` in place of the
            patch embedding). Defaults to None.
        quick_gelu (bool, optional): Force QuickGELU on/off; None = auto.
            Defaults to None.
        cache_dir (str, optional): Download/cache folder for tags.
            Defaults to None (open_clip's defaults).
        weights_only (bool): ``torch.load(weights_only=...)`` for state
            dict files. Defaults to True.
        **kwargs: Extra arguments of ``open_clip.create_model`` (named
            models, e.g. ``force_image_size``) or ``open_clip.CLIP``
            (custom models, e.g. ``cast_dtype``).

    Returns:
        open_clip.CLIP: The model, in eval mode, on the CPU.

    Raises:
        ValueError: If both or neither of ``model_name`` and ``model_cfg``
            are given, or the name is unknown.
        CLIPWeightsNotFoundError: If the pretrained weights cannot be
            obtained.
        CLIPCheckpointError: If the file is not a checkpoint, or holds
            another architecture.
    """
    if (model_name is None) == (model_cfg is None):
        raise ValueError('Give exactly one of model_name (e.g. '
                         f'{SUPPORTED_MODEL_NAMES}) and model_cfg (kwargs '
                         'of open_clip.CLIP, e.g. TINY_CLIP_CFG).')
    checkpoint = None
    if model_cfg is not None:
        cfg = deepcopy(dict(model_cfg))
        if quick_gelu is not None:
            cfg['quick_gelu'] = quick_gelu
        cfg.update(kwargs)
        conv_stem = cfg.pop('conv_stem', None)
        if pretrained is not None:
            path = checkpoint = _custom_checkpoint(pretrained)
            if quick_gelu is None and 'quick_gelu' not in cfg and \
                    is_torchscript_archive(path):
                cfg['quick_gelu'] = True  # an OpenAI TorchScript file
        model = open_clip.CLIP(**cfg)
        if conv_stem:
            add_conv_stem(model.visual, conv_stem)
    else:
        name = clean_name(model_name)
        if name not in open_clip.list_models():
            raise ValueError(
                f'Unknown open_clip model {model_name!r}. Supported here: '
                f'{SUPPORTED_MODEL_NAMES} (or any of '
                'open_clip.list_models()).')
        tag_quick_gelu = False
        if pretrained is not None:
            checkpoint, tag_quick_gelu = _resolve_pretrained(
                name, pretrained, cache_dir)
        force = tag_quick_gelu if quick_gelu is None else quick_gelu
        # weights are loaded below (our error handling); build randomly
        model = open_clip.create_model(
            name, pretrained=None, force_quick_gelu=force, **kwargs)
        if quick_gelu is False:  # '-quickgelu' names set it in the json
            _check_quick_gelu_off(model, name)
    if checkpoint is not None:
        target = (
            clean_name(model_name)
            if model_name is not None else 'the custom CLIP of model_cfg')
        _load_weights(model, checkpoint, target, weights_only=weights_only)
    model.eval()
    return model


def _check_quick_gelu_off(model: torch.nn.Module, name: str) -> None:
    """``force_quick_gelu`` cannot switch QuickGELU off for
    ``-quickgelu`` names: say so instead of silently ignoring it."""
    if any(
            isinstance(m, open_clip.transformer.QuickGELU)
            for m in model.modules()):
        raise ValueError(f'quick_gelu=False conflicts with {name!r}, whose '
                         'config uses QuickGELU; drop the -quickgelu '
                         'suffix.')


def build_clip_visual(clip: dict) -> open_clip.transformer.VisionTransformer:
    """The visual tower of :func:`build_clip_part` ``(clip, 'visual')``.

    Args:
        clip (dict): Keyword arguments of :func:`build_open_clip`.

    Returns:
        VisionTransformer: ``model.visual`` with its open_clip parameter
        names (``conv1``, ``transformer.resblocks.0.attn...``).

    Raises:
        ValueError: If the visual tower is not an open_clip
            ``VisionTransformer`` (e.g. ResNet or timm towers).
    """
    visual = build_clip_part(clip, 'visual').visual
    if not isinstance(visual, open_clip.transformer.VisionTransformer):
        raise ValueError('Only open_clip VisionTransformer visual towers '
                         f'are supported, got {type(visual).__name__}.')
    return visual


# Within share_clip_models(): [(clip dict, model, parts handed out)]
_SHARED: ContextVar[Optional[list]] = ContextVar(
    'mafsar_shared_clip', default=None)


@contextmanager
def share_clip_models() -> Iterator[None]:
    """Build and load each CLIP once within the block.

    The recognizer builds its backbone and its text encoder inside this
    block, so that when both name the same weights (equal ``clip`` dicts
    with ``pretrained`` set) one open_clip model is built and loaded and
    the backbone keeps its visual tower, the text encoder its text half.
    The models are dropped when the block ends (the halves live on in
    their modules).
    """
    token = _SHARED.set([])
    try:
        yield
    finally:
        _SHARED.reset(token)


def build_clip_part(clip: dict, part: str) -> open_clip.CLIP:
    """A CLIP model of which the caller keeps ``part`` (``'visual'`` or
    ``'text'``), built by :func:`build_open_clip`.

    Inside :func:`share_clip_models`, a ``clip`` dict equal to one built
    earlier in the block gives that model again, each part once (two
    backbones do not share a tower). Random init (``pretrained=None``)
    is always built anew: two random CLIPs are not the same weights, and
    seeded builds keep their random draws.

    Args:
        clip (dict): Keyword arguments of :func:`build_open_clip`.
        part (str): The part the caller keeps.

    Returns:
        open_clip.CLIP: The model, in eval mode.
    """
    if not isinstance(clip, dict):
        raise TypeError(f'clip must be a dict of build_open_clip kwargs, '
                        f'got {type(clip).__name__}')
    shared = _SHARED.get()
    if shared is None or clip.get('pretrained') is None:
        return build_open_clip(**clip)
    for same, model, taken in shared:
        if same == clip and part not in taken:
            taken.add(part)
            return model
    model = build_open_clip(**clip)
    shared.append((deepcopy(dict(clip)), model, {part}))
    return model


def get_tokenizer(model_name: Optional[str] = None,
                  context_length: Optional[int] = None) -> Callable:
    """``open_clip.get_tokenizer``: the tokenizer of a named open_clip
    model, or (``model_name=None``, custom models) open_clip's default BPE
    tokenizer, whose vocab ships with the package.

    Args:
        model_name (str, optional): open_clip name; None for ``model_cfg``
            models. Defaults to None.
        context_length (int, optional): Token sequence length; None keeps
            the model's (77 for CLIP). Defaults to None.

    Returns:
        Callable: ``texts -> LongTensor [len(texts), context_length]``.
    """
    return open_clip.get_tokenizer(
        clean_name(model_name or ''), context_length=context_length)


def tokenize(model_name: Optional[str],
             texts: Union[str, List[str]],
             context_length: Optional[int] = None) -> Tensor:
    """Tokenize ``texts`` for ``model_name`` (None: custom models).

    Args:
        model_name (str, optional): open_clip name, or None.
        texts (str | list[str]): Text(s) to tokenize.
        context_length (int, optional): Sequence length. Defaults to None
            (the model's, 77).

    Returns:
        Tensor: ``[len(texts), context_length]`` token ids.
    """
    if isinstance(texts, str):
        texts = [texts]
    return get_tokenizer(model_name, context_length)(list(texts))
