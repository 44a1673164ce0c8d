"""Shared parts of the benchmarks: paths, targets, memory probes, the
machine description, models built from the repository's configs and a
random episode."""
import ctypes
import datetime
import gc
import os
import os.path as osp
import platform
import re
import statistics
from typing import Optional, Sequence

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
#: The command line (the training workers run it in fresh processes).
CLI = osp.join(ROOT, 'tools', 'analysis', 'benchmark.py')
QUICKSTART_CONFIG = osp.join(ROOT, 'configs', 'mafsar',
                             'mafsar_vit-tiny_5w1s_synthetic.py')
DATA_224_CONFIG = osp.join(ROOT, 'configs', '_base_', 'datasets',
                           'fewshot_video_224.py')
MODEL_CONFIGS = osp.join(ROOT, 'configs', '_base_', 'models')
SECTIONS = ('params', 'train', 'eval', 'matchers', 'data', 'test_memory',
            'headline')
#: ``all`` runs the short sections first (``data`` reads ``train``).
RUN_ORDER = ('params', 'matchers', 'eval', 'train', 'data', 'test_memory',
             'headline')
RESULT_TAG = 'BENCHMARK_RESULT '

#: Targets of issue 7 (ratios to full fine-tuning, speed-up, share).
TARGETS = dict(
    train_memory=0.75, train_time=0.80, eval_speedup=20.0, matcher_share=0.02)

#: The paper's Table 4 (ViT-B/32, 5-way 1-shot, one 24 GB GPU, per 10k
#: training tasks; MA-FSAR, Xing et al., Pattern Recognition 2025).
PAPER = dict(
    mafsar=dict(tunable=18.54e6, frozen=151.3e6, memory_gb=11.9, hours=3.0),
    full_ft=dict(tunable=90.99e6, memory_gb=13.5, hours=3.4))

#: method -> model config in configs/_base_/models (full fine-tuning and
#: the frozen tower are MA-FSAR's model with a ``CLIPVisual`` backbone)
METHOD_CONFIGS = dict(
    mafsar='mafsar_vit-b16.py',
    full_ft='mafsar_vit-b16.py',
    frozen='mafsar_vit-b16.py',
    clip_fsar='clipfsar_vit-b16.py',
    trx='clip_visual_trx.py',
    otam='clip_visual_otam.py')


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence (NaN when empty)."""
    values = list(values)
    return statistics.median(values) if values else float('nan')


def _status_kib(key: str) -> Optional[int]:
    """A ``kB`` field of ``/proc/self/status`` (Linux), else None."""
    try:
        with open('/proc/self/status') as f:
            text = f.read()
    except OSError:
        return None
    found = re.search(rf'^{key}:\s+(\d+) kB', text, re.M)
    return int(found.group(1)) if found else None


def rss_bytes() -> int:
    """Current resident set size of this process in bytes."""
    kib = _status_kib('VmRSS')
    if kib is None:  # pragma: no cover (non-Linux)
        import resource
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def peak_rss_bytes() -> int:
    """Peak resident set size (``VmHWM``) since the last reset, bytes."""
    kib = _status_kib('VmHWM')
    if kib is None:  # pragma: no cover (non-Linux)
        import resource
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0).

    Returns:
        bool: Whether the reset worked (else the peak covers the whole
        process life).
    """
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:  # pragma: no cover
        return False


def release_free_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc
    ``malloc_trim``), so RSS tracks live memory before a measurement."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover (not glibc)
        pass


def machine_info() -> dict:
    """CPU, cores, memory, library versions, date and load."""
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            names = re.findall(r'^model name\s*:\s*(.+)$', f.read(), re.M)
        if names:
            cpu = names[0].strip()
    except OSError:  # pragma: no cover
        pass
    mem_gib = None
    try:
        with open('/proc/meminfo') as f:
            found = re.search(r'MemTotal:\s+(\d+) kB', f.read())
        mem_gib = round(int(found.group(1)) / 2**20, 1)
    except (OSError, AttributeError):  # pragma: no cover
        pass
    try:
        import open_clip
        open_clip_version = open_clip.__version__
    except Exception:  # pragma: no cover
        open_clip_version = 'n/a'
    return dict(
        cpu=cpu,
        logical_cores=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        memory_gib=mem_gib,
        gpu='none (everything on CPU)',
        python=platform.python_version(),
        torch=torch.__version__,
        open_clip=open_clip_version,
        platform=platform.platform(),
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        load_average=list(os.getloadavg()))


def _import_package() -> None:
    """Register the modules and MMAction2's default scope."""
    from mmengine.registry import init_default_scope

    import mafsar_mm  # noqa: F401
    import mafsar_mm.models  # noqa: F401
    init_default_scope('mmaction')


# ---------------------------------------------------------------------------
# models from the configs
# ---------------------------------------------------------------------------
def clip_cfg(arch: str) -> dict:
    """The ``clip`` dict of an architecture, random weights.

    Args:
        arch (str): An open_clip name (``'ViT-B-32'``) or ``'tiny'`` (the
            quickstart's CLIP, ``configs/_base_/models/clip_tiny.py``).

    Returns:
        dict: Kwargs of ``build_open_clip``.
    """
    if arch == 'tiny':
        from mmengine.config import Config
        tiny = Config.fromfile(osp.join(MODEL_CONFIGS, 'clip_tiny.py'))
        return dict(model_cfg=tiny.clip_tiny.model_cfg.to_dict())
    return dict(model_name=arch, pretrained=None)


def clip_dims(arch: str) -> dict:
    """Embedding width and input size of an architecture (no build)."""
    if arch == 'tiny':
        cfg = clip_cfg(arch)['model_cfg']
    else:
        import open_clip
        cfg = open_clip.get_model_config(arch)
    return dict(
        embed_dim=cfg['embed_dim'], image_size=cfg['vision_cfg']['image_size'])


def recognizer_cfg(method: str,
                   arch: str,
                   num_frames: int = 8,
                   text_cache: bool = True,
                   **backbone_kwargs) -> dict:
    """A method's model config from ``configs/_base_/models`` on a random
    CLIP of another architecture.

    Every ``clip`` dict is replaced by :func:`clip_cfg`, the widths that
    follow the CLIP (neck, TRX) and the frame count are set; nothing else
    of the config changes.

    Args:
        method (str): A key of :data:`METHOD_CONFIGS`.
        arch (str): CLIP architecture, see :func:`clip_cfg`.
        num_frames (int): Frames per video. Defaults to 8.
        text_cache (bool): The text encoder's per-name cache. Defaults to
            True.
        **backbone_kwargs: Extra backbone arguments (``with_cp``,
            ``lma_mode``, ...).

    Returns:
        dict: The model config.
    """
    from mmengine.config import Config
    if method not in METHOD_CONFIGS:
        raise ValueError(f'unknown method {method!r}; use one of '
                         f'{sorted(METHOD_CONFIGS)}')
    cfg = Config.fromfile(osp.join(MODEL_CONFIGS, METHOD_CONFIGS[method]))
    model = cfg.model.to_dict()
    clip = clip_cfg(arch)
    dims = clip_dims(arch)['embed_dim']
    if method in ('full_ft', 'frozen'):
        model['backbone'] = dict(
            type='CLIPVisual', clip=clip, frozen=method == 'frozen')
    model['backbone'].update(clip=clip, **backbone_kwargs)
    if model['backbone']['type'] == 'CLIPViTFgMA':
        model['backbone']['num_frames'] = num_frames
    if model.get('text_encoder'):
        model['text_encoder'].update(clip=clip, cache=text_cache)
    head = model['head']
    if head.get('neck'):
        head['neck'].update(in_channels=dims, ffn_channels=4 * dims)
    if head['matcher']['type'] == 'TRXMatcher':
        head['matcher'].update(in_channels=dims, seq_len=num_frames)
    return model


def random_weights(model_cfg: dict) -> dict:
    """``model_cfg`` with every ``clip=dict(...)`` built from random
    weights (``pretrained=None``): the quickstart config points at a
    pretrained tiny CLIP file, which time and memory do not depend on."""
    if isinstance(model_cfg, dict):
        return {
            k: (dict(v, pretrained=None)
                if k == 'clip' and isinstance(v, dict) else random_weights(v))
            for k, v in model_cfg.items()
        }
    if isinstance(model_cfg, (list, tuple)):
        return type(model_cfg)(random_weights(v) for v in model_cfg)
    return model_cfg


def build_model(cfg: dict):
    """Build a model config with MMAction2's registry."""
    _import_package()
    from mmaction.registry import MODELS
    return MODELS.build(cfg)


def _episode(num_videos: int,
             n_way: int,
             k_shot: int,
             size: int,
             num_frames: int,
             seed: int = 0):
    """A random uint8 episode and its data sample."""
    import torch

    from mafsar_mm.structures import EpisodeDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randint(
        0,
        256, (num_videos, 3, num_frames, size, size),
        generator=gen,
        dtype=torch.uint8)
    n_query = num_videos // n_way - k_shot
    sample = EpisodeDataSample(
        metainfo=dict(
            class_names=[f'synthetic action number {i}' for i in range(n_way)],
            n_way=n_way,
            k_shot=k_shot,
            n_query=n_query))
    sample.support_labels = torch.arange(n_way).repeat_interleave(k_shot)
    sample.query_labels = torch.arange(n_way).repeat_interleave(n_query)
    return inputs, sample
