"""Build open_clip CLIP models: named architectures with pretrained weights
(a tag or a local file) or small custom models with random init.

Weights are resolved by open_clip's own registry
(``open_clip.pretrained``, github.com/mlfoundations/open_clip). When they
cannot be obtained (offline machine, missing file), a single
:class:`CLIPWeightsNotFoundError` says what to put where.
"""
import os
import os.path as osp
import zipfile
from copy import deepcopy
from functools import partial
from typing import Callable, List, Optional, Tuple, Union

import open_clip
import torch
from open_clip.pretrained import (download_pretrained, get_pretrained_cfg,
                                  list_pretrained_tags_by_model)
from torch import Tensor

from mafsar_mm.utils.errors import UserError

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

_TRUE_STRINGS = ('1', 'ON', 'YES', 'TRUE')
_CKPT_SUFFIXES = ('.pt', '.pth', '.bin', '.safetensors', '.npz')
# keys of OpenAI's TorchScript state dicts that open_clip models lack
_OPENAI_EXTRA_KEYS = ('input_resolution', 'context_length', 'vocab_size',
                      'attn_mask')


class CLIPWeightsNotFoundError(UserError, FileNotFoundError):
    """Raised when the requested pretrained CLIP weights cannot be found or
    downloaded. The message says how to provide them locally."""


def _is_offline() -> bool:
    """Whether the Hugging Face hub offline switch is set (read from the
    environment each call, unlike ``huggingface_hub.constants``)."""
    for var in ('HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'):
        if os.environ.get(var, '').upper() in _TRUE_STRINGS:
            return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover
        return False
    return bool(getattr(constants, 'HF_HUB_OFFLINE', False))


def _clean_name(model_name: str) -> str:
    """open_clip spells 'ViT-B/32' as 'ViT-B-32'."""
    return model_name.replace('/', '-')


def _weights_help(model_name: str, pretrained: str, reason: str) -> str:
    """The message of :class:`CLIPWeightsNotFoundError`."""
    pcfg = get_pretrained_cfg(model_name, pretrained) or {}
    sources = []
    if pcfg.get('hf_hub'):
        repo = pcfg['hf_hub'].rstrip('/')
        sources.append(f'https://huggingface.co/{repo} '
                       '(open_clip_model.safetensors or '
                       'open_clip_pytorch_model.bin)')
    if pcfg.get('url'):
        sources.append(pcfg['url'])
    lines = [
        f'Cannot obtain the pretrained CLIP weights for model '
        f"'{model_name}' with pretrained='{pretrained}': {reason}",
        'This machine may be offline. Either',
        '  * download the weights on a machine with internet and give the '
        'local file in the config, e.g.',
        f"      clip=dict(model_name='{model_name}', "
        f"pretrained='/path/to/{model_name}.pt')",
    ]
    if sources:
        lines.append('    (sources: ' + '; '.join(sources) + ')')
    lines += [
        '  * or put them in the cache open_clip reads: the Hugging Face hub '
        'cache ($HF_HUB_CACHE, default ~/.cache/huggingface/hub; or pass '
        "cache_dir=... in the clip dict) or, for URL downloads, "
        '~/.cache/clip/',
        '  * or use pretrained=None for a randomly initialised model '
        '(tests only).',
    ]
    return '\n'.join(lines)


def _find_cached(pcfg: dict, cache_dir: Optional[str]) -> Optional[str]:
    """Find the weights of a tag in the local caches without any network
    access (used when offline)."""
    hub = pcfg.get('hf_hub', '')
    if hub:
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:  # pragma: no cover
            try_to_load_from_cache = None
        if try_to_load_from_cache is not None:
            repo_id, filename = osp.split(hub)
            names = [filename] if filename else [
                'open_clip_model.safetensors', 'open_clip_pytorch_model.bin'
            ]
            for name in names:
                path = try_to_load_from_cache(
                    repo_id, name, cache_dir=cache_dir)
                if isinstance(path, str) and osp.isfile(path):
                    return path
    url = pcfg.get('url', '')
    if url:
        folder = cache_dir or osp.expanduser('~/.cache/clip')
        path = osp.join(folder, osp.basename(url))
        if osp.isfile(path):
            return path
    return None


def _resolve_pretrained(model_name: str, pretrained: str,
                        cache_dir: Optional[str]) -> Tuple[str, bool]:
    """Turn a tag or a file path into a local file.

    Returns:
        tuple[str, bool]: The checkpoint path and whether the weights need
        QuickGELU (from open_clip's tag registry; for files: whether it is
        an OpenAI TorchScript archive).
    """
    path = osp.expanduser(pretrained)
    if osp.isfile(path):
        return path, _is_torchscript_archive(path)
    pcfg = get_pretrained_cfg(model_name, pretrained)
    if not pcfg:
        tags = list_pretrained_tags_by_model(model_name)
        if os.sep in pretrained or pretrained.endswith(_CKPT_SUFFIXES):
            reason = f'the file {pretrained!r} does not exist'
        else:
            reason = (f"'{pretrained}' is neither an existing file nor a "
                      f'known open_clip tag of this model (tags: {tags})')
        raise CLIPWeightsNotFoundError(
            _weights_help(model_name, pretrained, reason))
    quick_gelu = bool(pcfg.get('quick_gelu', False))
    if _is_offline():
        cached = _find_cached(pcfg, cache_dir)
        if cached is None:
            raise CLIPWeightsNotFoundError(
                _weights_help(
                    model_name, pretrained,
                    'offline mode (HF_HUB_OFFLINE) is set and the weights '
                    'are not in the local cache'))
        return cached, quick_gelu
    try:
        checkpoint = download_pretrained(pcfg, cache_dir=cache_dir)
    except Exception as err:  # network, hub and file errors alike
        first_line = str(err).strip().splitlines()
        first_line = first_line[0] if first_line else ''
        reason = f'download failed ({type(err).__name__}: {first_line})'
        raise CLIPWeightsNotFoundError(
            _weights_help(model_name, pretrained, reason)) from None
    if not checkpoint or not osp.isfile(checkpoint):
        raise CLIPWeightsNotFoundError(
            _weights_help(model_name, pretrained, 'download gave no file'))
    return checkpoint, quick_gelu


def _is_torchscript_archive(path: str) -> bool:
    """OpenAI's original checkpoints (e.g. ``ViT-B-32.pt``) are TorchScript
    archives: zip files with a ``code/`` folder or ``constants.pkl``."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any('/code/' in name or name.endswith('constants.pkl')
                   for name in zf.namelist())


def _load_weights(model: torch.nn.Module, path: str,
                  weights_only: bool = True) -> None:
    """Load a full CLIP checkpoint into ``model`` (strict).

    OpenAI TorchScript files are read with ``torch.jit.load`` (their keys
    already follow the CLIP layout open_clip uses); anything else goes
    through ``open_clip.load_checkpoint`` (state dicts, safetensors, third
    party layouts).
    """
    if _is_torchscript_archive(path):
        state_dict = torch.jit.load(path, map_location='cpu').state_dict()
        for key in _OPENAI_EXTRA_KEYS:
            state_dict.pop(key, None)
        model.load_state_dict(state_dict, strict=True)
    else:
        open_clip.load_checkpoint(
            model, path, strict=True, weights_only=weights_only)


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
    random init. Tags are fetched into (or found in) open_clip's caches;
    with ``HF_HUB_OFFLINE=1`` only the caches are looked at, without any
    network access.

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
            custom model. Defaults to None.
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
        if pretrained is not None:
            path = osp.expanduser(pretrained)
            if not osp.isfile(path):
                raise CLIPWeightsNotFoundError(
                    f'Checkpoint file {pretrained!r} for the custom CLIP '
                    '(model_cfg) does not exist. Custom models only load '
                    'local files: set clip=dict(model_cfg=..., '
                    "pretrained='/path/to/checkpoint.pt') or "
                    'pretrained=None.')
            checkpoint = path
            if quick_gelu is None and 'quick_gelu' not in cfg and \
                    _is_torchscript_archive(path):
                cfg['quick_gelu'] = True  # an OpenAI TorchScript file
        model = open_clip.CLIP(**cfg)
    else:
        name = _clean_name(model_name)
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
        _load_weights(model, checkpoint, weights_only=weights_only)
    model.eval()
    return model


def _check_quick_gelu_off(model: torch.nn.Module, name: str) -> None:
    """``force_quick_gelu`` cannot switch QuickGELU off for
    ``-quickgelu`` names: say so instead of silently ignoring it."""
    if any(isinstance(m, open_clip.transformer.QuickGELU)
           for m in model.modules()):
        raise ValueError(f'quick_gelu=False conflicts with {name!r}, whose '
                         'config uses QuickGELU; drop the -quickgelu '
                         'suffix.')


def build_clip_visual(clip: dict) -> open_clip.transformer.VisionTransformer:
    """Build a CLIP model with :func:`build_open_clip` and keep only its
    visual tower (the rest is freed).

    Args:
        clip (dict): Keyword arguments of :func:`build_open_clip`.

    Returns:
        VisionTransformer: ``model.visual`` with its open_clip parameter
        names (``conv1``, ``transformer.resblocks.0.attn...``).

    Raises:
        ValueError: If the visual tower is not an open_clip
            ``VisionTransformer`` (e.g. ResNet or timm towers).
    """
    if not isinstance(clip, dict):
        raise TypeError(f'clip must be a dict of build_open_clip kwargs, '
                        f'got {type(clip).__name__}')
    model = build_open_clip(**clip)
    visual = model.visual
    del model
    if not isinstance(visual, open_clip.transformer.VisionTransformer):
        raise ValueError('Only open_clip VisionTransformer visual towers '
                         f'are supported, got {type(visual).__name__}.')
    return visual


def get_tokenizer(model_name: Optional[str] = None,
                  context_length: Optional[int] = None) -> Callable:
    """Tokenizer of a named open_clip model, or open_clip's default BPE
    tokenizer (vocab shipped with the package) for custom models.

    Args:
        model_name (str, optional): open_clip name; None for ``model_cfg``
            models. Defaults to None.
        context_length (int, optional): Token sequence length; None keeps
            the model's (77 for CLIP). Defaults to None.

    Returns:
        Callable: ``texts -> LongTensor [len(texts), context_length]``.
    """
    if model_name is None:
        return partial(open_clip.tokenize, context_length=context_length
                       or 77)
    tokenizer = open_clip.get_tokenizer(_clean_name(model_name))
    if context_length is None:
        return tokenizer
    return partial(tokenizer, context_length=context_length)


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
