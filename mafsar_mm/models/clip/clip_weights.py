"""Find CLIP weights before building: a local file, open_clip's caches,
or a download when the source answers.

Tags are resolved by open_clip's own registry (``open_clip.pretrained``,
github.com/mlfoundations/open_clip). When weights cannot be obtained
(offline machine, missing file) a single :class:`CLIPWeightsNotFoundError`
says what to put where, naming the one option that gives a local file
(``--clip-weights PATH``); an offline machine is told so at once, not
after the hub client's retries.
"""
import os
import os.path as osp
import socket
import threading
from typing import Optional, Tuple
from urllib.parse import urlparse

import open_clip
from open_clip.pretrained import (download_pretrained, get_pretrained_cfg,
                                  list_pretrained_tags_by_model)

from mafsar_mm.utils.errors import UserError
from .clip_checkpoint import (check_architecture, check_file_format,
                              config_vit_shape, is_torchscript_archive)

_TRUE_STRINGS = ('1', 'ON', 'YES', 'TRUE')
_CKPT_SUFFIXES = ('.pt', '.pth', '.bin', '.safetensors', '.npz')


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


def clean_name(model_name: str) -> str:
    """open_clip spells 'ViT-B/32' as 'ViT-B-32'."""
    return model_name.replace('/', '-')


def _weights_help(model_name: str, pretrained: str, reason: str) -> str:
    """The one-line message of :class:`CLIPWeightsNotFoundError`: what is
    missing, where to get it and the one option that gives a local file."""
    pcfg = get_pretrained_cfg(model_name, pretrained) or {}
    sources = []
    if pcfg.get('hf_hub'):
        repo = pcfg['hf_hub'].rstrip('/')
        sources.append(f'https://huggingface.co/{repo} '
                       '(open_clip_model.safetensors)')
    if pcfg.get('url'):
        sources.append(pcfg['url'])
    where = f' from {" or ".join(sources)}' if sources else ''
    return (f"CLIP weights '{pretrained}' of {model_name} are not "
            f'available: {reason}. Download them{where} on a machine with '
            'internet and give the file with --clip-weights PATH '
            '(tools/train.py, tools/test.py, the demo; in a config: '
            "clip.pretrained='PATH'), or put them in open_clip's cache "
            '($HF_HUB_CACHE or ~/.cache/clip).')


def _reachable(host: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to ``host:443`` opens within ``timeout``
    seconds (name lookup included), so that an offline machine is told
    so at once instead of after the hub client's retries. With a proxy
    set, the proxy decides: assume reachable."""
    for var in ('HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'):
        if os.environ.get(var):
            return True
    result = []

    def probe():
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    # getaddrinfo has no timeout of its own: probe in a daemon thread
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1)
    return bool(result and result[0])


def _source_host(pcfg: dict) -> Optional[str]:
    """The host a tag is downloaded from (the hub, else its URL)."""
    if pcfg.get('hf_hub'):
        endpoint = os.environ.get('HF_ENDPOINT', 'https://huggingface.co')
        return urlparse(endpoint).hostname
    if pcfg.get('url'):
        return urlparse(pcfg['url']).hostname
    return None


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


def _resolve_pretrained(model_name: str,
                        pretrained: str,
                        cache_dir: Optional[str],
                        download: bool = True) -> Tuple[Optional[str], bool]:
    """Turn a tag or a file path into a local file.

    Files and caches are looked at first, without network access; a tag
    that is not cached is downloaded only when its host answers (one
    quick probe, :func:`_reachable`), so that an offline machine gets
    the error at once, not after the hub client's retries.

    Args:
        model_name (str): open_clip name (cleaned).
        pretrained (str): Tag or file.
        cache_dir (str, optional): open_clip's ``cache_dir``.
        download (bool): Download a reachable tag that is not cached.
            With False only check that it could be (the path is None
            then). Defaults to True.

    Returns:
        tuple[str | None, bool]: The checkpoint path and whether the
        weights need QuickGELU (from open_clip's tag registry; for files:
        whether it is an OpenAI TorchScript archive).

    Raises:
        CLIPWeightsNotFoundError: If the file is missing, the tag unknown,
            or the tag neither cached nor downloadable.
    """
    path = osp.expanduser(pretrained)
    if osp.isfile(path):
        check_file_format(path)
        return path, is_torchscript_archive(path)
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
    cached = _find_cached(pcfg, cache_dir)
    if cached is not None:
        return cached, quick_gelu
    if _is_offline():
        raise CLIPWeightsNotFoundError(
            _weights_help(
                model_name, pretrained,
                'offline mode (HF_HUB_OFFLINE) is set and they are not in '
                'the local cache'))
    host = _source_host(pcfg)
    if host is not None and not _reachable(host):
        raise CLIPWeightsNotFoundError(
            _weights_help(
                model_name, pretrained,
                f'they are not in the local cache and {host} cannot be '
                'reached (no network?)'))
    if not download:
        return None, quick_gelu
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


def check_clip_weights(model_name: Optional[str] = None,
                       pretrained: Optional[str] = None,
                       model_cfg: Optional[dict] = None,
                       cache_dir: Optional[str] = None,
                       **kwargs) -> None:
    """Check, before anything is built, that :func:`build_open_clip` with
    these arguments will find its weights: a file exists, is a checkpoint
    and holds the configured visual tower (a memory-mapped look), or a tag
    is cached or its host answers. Nothing is downloaded or built.

    Args:
        model_name (str, optional): open_clip name. Defaults to None.
        pretrained (str, optional): Tag or file; None passes. Defaults to
            None.
        model_cfg (dict, optional): Custom model (files only). Defaults
            to None.
        cache_dir (str, optional): open_clip's cache folder. Defaults to
            None.
        **kwargs: The other :func:`build_open_clip` arguments (ignored).

    Raises:
        CLIPWeightsNotFoundError: As :func:`build_open_clip` would, at
            once.
        CLIPCheckpointError: If the file is no checkpoint or holds
            another architecture.
    """
    if pretrained is None:
        return
    if model_cfg is not None or model_name is None:
        path = _custom_checkpoint(pretrained)
        vision = (model_cfg or {}).get('vision_cfg')
        stem = (model_cfg or {}).get('conv_stem')
        check_architecture(path, config_vit_shape(vision, stem),
                           'the custom CLIP of model_cfg')
        return
    name = clean_name(model_name)
    if name in open_clip.list_models():  # unknown names: build says so
        path, _ = _resolve_pretrained(
            name, pretrained, cache_dir, download=False)
        if path is not None:
            vision = (open_clip.get_model_config(name) or {}).get('vision_cfg')
            check_architecture(path, config_vit_shape(vision), name)


def _custom_checkpoint(pretrained: str) -> str:
    """The file of a custom (``model_cfg``) model, or the error."""
    path = osp.expanduser(pretrained)
    if not osp.isfile(path):
        raise CLIPWeightsNotFoundError(
            f'CLIP weights file {pretrained!r} of the custom CLIP '
            '(model_cfg) does not exist; custom models load local files '
            'only: give one with --clip-weights PATH (in a config: '
            "clip.pretrained='PATH'), or pretrained=None for random "
            'weights.')
    check_file_format(path)
    return path
