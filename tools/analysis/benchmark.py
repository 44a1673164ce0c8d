"""Efficiency benchmarks of MA-FSAR (GitHub issue 7).

One entry point, five measurements and a report::

    python tools/analysis/benchmark.py all --out docs/benchmarks.md
    python tools/analysis/benchmark.py params   --out docs/benchmarks.md
    python tools/analysis/benchmark.py train    --out docs/benchmarks.md
    python tools/analysis/benchmark.py eval     --out docs/benchmarks.md
    python tools/analysis/benchmark.py matchers --out docs/benchmarks.md
    python tools/analysis/benchmark.py data     --out docs/benchmarks.md
    python tools/analysis/benchmark.py all --quick --out /tmp/bench.md

* ``params``: total / tunable parameters of MA-FSAR (ViT-B/32, ViT-B/16),
  full fine-tuning, frozen CLIP + TPCM, CLIP-FSAR, TRX and OTAM, next to
  the paper's Table 4.
* ``train``: peak memory and time of one training step (forward,
  backward, AdamW) of MA-FSAR, its efficiency levers, full fine-tuning
  and a frozen tower; every variant runs in its own process, rounds of
  all variants are interleaved.
* ``eval``: episodes per second of the plain test path and of the
  per-video feature cache, with identical predictions.
* ``matchers``: time of OTAM, Bi-MHM, TRX and Proto on a 5-way 5-shot
  episode against the time of MA-FSAR's whole forward pass.
* ``data``: videos per second through the video pipelines with 0, 1 and 2
  loader workers against the model's training rate.

Every sub-command stores its raw results in a JSON file next to the report
(``--results``, default: ``--out`` with ``.json``) and re-renders the
whole report from it, so sections can be refreshed one at a time. All
models use random weights (``pretrained=None``): nothing is downloaded.
"""
import argparse
import ctypes
import datetime
import gc
import json
import os
import os.path as osp
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

QUICKSTART_CONFIG = osp.join(ROOT, 'configs', 'mafsar',
                             'mafsar_vit-tiny_5w1s_synthetic.py')
DATA_224_CONFIG = osp.join(ROOT, 'configs', '_base_', 'datasets',
                           'fewshot_video_224.py')
SECTIONS = ('params', 'train', 'eval', 'matchers', 'data')
#: ``all`` runs the short sections first (``data`` reads ``train``).
RUN_ORDER = ('params', 'matchers', 'eval', 'train', 'data')
RESULT_TAG = 'BENCHMARK_RESULT '

#: Targets of issue 7 (ratios to full fine-tuning, speed-up, share).
TARGETS = dict(
    train_memory=0.75, train_time=0.80, eval_speedup=20.0, matcher_share=0.02)

#: The paper's Table 4 (ViT-B/32, 5-way 1-shot, one 24 GB GPU, per 10k
#: training tasks), SPEC.md 2.2 and 4.
PAPER = dict(
    mafsar=dict(tunable=18.54e6, frozen=151.3e6, memory_gb=11.9, hours=3.0),
    full_ft=dict(tunable=90.99e6, memory_gb=13.5, hours=3.4))


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
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
# model configs
# ---------------------------------------------------------------------------
def clip_cfg(arch: str) -> dict:
    """The ``clip`` dict of an architecture, random weights.

    Args:
        arch (str): An open_clip name (``'ViT-B-32'``) or ``'tiny'``
            (:data:`mafsar_mm.models.utils.TINY_CLIP_CFG`).

    Returns:
        dict: Kwargs of ``build_open_clip``.
    """
    if arch == 'tiny':
        from mafsar_mm.models.utils import TINY_CLIP_CFG
        return dict(model_cfg=TINY_CLIP_CFG)
    return dict(model_name=arch, pretrained=None)


def clip_dims(arch: str) -> dict:
    """Embedding width and input size of an architecture (no build)."""
    if arch == 'tiny':
        from mafsar_mm.models.utils import TINY_CLIP_CFG
        cfg = TINY_CLIP_CFG
    else:
        import open_clip
        cfg = open_clip.get_model_config(arch)
    return dict(
        embed_dim=cfg['embed_dim'], image_size=cfg['vision_cfg']['image_size'])


def recognizer_cfg(arch: str,
                   backbone: str = 'fgma',
                   neck: Optional[str] = 'TPCM',
                   matcher: str = 'OTAMMatcher',
                   text: bool = True,
                   num_frames: int = 8,
                   text_cache: bool = True,
                   **backbone_kwargs) -> dict:
    """A :class:`FewShotRecognizer` config on a random CLIP.

    Args:
        arch (str): CLIP architecture, see :func:`clip_cfg`.
        backbone (str): ``'fgma'`` (MA-FSAR's ``CLIPViTFgMA``), ``'full'``
            (``CLIPVisual``, fully fine-tuned) or ``'frozen'``
            (``CLIPVisual``, frozen). Defaults to 'fgma'.
        neck (str, optional): Prototype module type, or None. Defaults to
            'TPCM'.
        matcher (str): Matcher type. Defaults to 'OTAMMatcher'.
        text (bool): Frozen text encoder and text branch (alpha = 0.5, as
            MA-FSAR). Defaults to True.
        num_frames (int): Frames per video. Defaults to 8.
        text_cache (bool): The text encoder's per-name cache. Defaults to
            True.
        **backbone_kwargs: Extra backbone arguments (``with_cp``,
            ``lma_mode``, ...).

    Returns:
        dict: The model config.
    """
    clip = clip_cfg(arch)
    dims = clip_dims(arch)['embed_dim']
    if backbone == 'fgma':
        bb = dict(
            type='CLIPViTFgMA',
            clip=clip,
            num_frames=num_frames,
            **backbone_kwargs)
    elif backbone in ('full', 'frozen'):
        bb = dict(
            type='CLIPVisual',
            clip=clip,
            frozen=backbone == 'frozen',
            **backbone_kwargs)
    else:
        raise ValueError(f'unknown backbone {backbone!r}')
    neck_cfg = None
    if neck is not None:
        neck_cfg = dict(
            type=neck, in_channels=dims, num_heads=8, ffn_channels=4 * dims)
    matcher_cfg = dict(type=matcher)
    if matcher == 'TRXMatcher':
        matcher_cfg.update(in_channels=dims, seq_len=num_frames)
    return dict(
        type='FewShotRecognizer',
        data_preprocessor=dict(type='FewShotDataPreprocessor'),
        backbone=bb,
        text_encoder=dict(type='CLIPTextEncoder', clip=clip, cache=text_cache)
        if text else None,
        text_to_backbone=True,
        head=dict(
            type='FewShotHead',
            neck=neck_cfg,
            matcher=matcher_cfg,
            alpha=0.5 if text else 0.0))


def build_model(cfg: dict):
    """Build a model config with MMAction2's registry."""
    _import_package()
    from mmaction.registry import MODELS
    return MODELS.build(cfg)


# ---------------------------------------------------------------------------
# 1. parameters
# ---------------------------------------------------------------------------
#: (key, method, backbone kind, neck, matcher, text, note)
PARAM_METHODS = (
    ('mafsar', 'MA-FSAR', 'fgma', 'TPCM', 'OTAMMatcher', True,
     'frozen CLIP + FgMA adapters + Text FC, TPCM, OTAM, text branch'),
    ('full_ft', 'Full fine-tuning', 'full', 'TPCM', 'OTAMMatcher', True,
     'whole visual tower tuned, TPCM, OTAM, frozen text tower'),
    ('frozen', 'Frozen CLIP + TPCM', 'frozen', 'TPCM', 'OTAMMatcher', True,
     'no adaptation (ablation "TPCM only")'),
    ('clip_fsar', 'CLIP-FSAR', 'full', 'MultimodalTransformer', 'OTAMMatcher',
     True, 'visual tower tuned, multimodal prototype transformer'),
    ('trx', 'TRX', 'full', None, 'TRXMatcher', False,
     'visual tower tuned, TRX cross-transformer (omega = 2, 3)'),
    ('otam', 'OTAM', 'full', None, 'OTAMMatcher', False,
     'visual tower tuned, parameter-free OTAM'),
)


def _count(module) -> dict:
    total = sum(p.numel() for p in module.parameters())
    tunable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return dict(total=total, tunable=tunable, frozen=total - tunable)


def run_params(archs: Sequence[str],
               extra_archs: Dict[str, Sequence[str]],
               num_frames: int = 8) -> dict:
    """Count the parameters of every method.

    Args:
        archs (Sequence[str]): Architectures built for every method.
        extra_archs (dict[str, Sequence[str]]): More architectures for
            some methods, e.g. ``{'mafsar': ['ViT-B-16']}``.
        num_frames (int): Frames per video (TRX tuples). Defaults to 8.

    Returns:
        dict: ``rows``: one dict per (method, architecture) with
        ``total``, ``tunable``, ``frozen``, ``visual``, ``text`` and the
        tunable ``parts`` of MA-FSAR.
    """
    rows = []
    for key, method, kind, neck, matcher, text, note in PARAM_METHODS:
        for arch in list(archs) + list(extra_archs.get(key, ())):
            model = build_model(
                recognizer_cfg(
                    arch, kind, neck, matcher, text, num_frames=num_frames))
            row = dict(
                key=key, method=method, arch=arch, note=note, **_count(model))
            row['visual'] = _count(model.backbone.visual)['total']
            row['text'] = (
                _count(model.text_encoder)['total']
                if model.text_encoder is not None else 0)
            parts = {}
            backbone = model.backbone
            if kind == 'fgma':
                for name in ('t_adapters', 'm_adapters', 'st_adapters',
                             'j_adapters', 'text_fcs', 'text_fc'):
                    mod = getattr(backbone, name, None)
                    if mod is not None:
                        parts[name] = _count(mod)['tunable']
            else:
                parts['visual'] = _count(backbone)['tunable']
            if model.head.neck is not None:
                parts['neck'] = _count(model.head.neck)['tunable']
            parts['matcher'] = _count(model.head.matcher)['tunable']
            parts['head_scales'] = (
                _count(model.head)['tunable'] - parts['matcher'] -
                parts.get('neck', 0))
            row['parts'] = parts
            rows.append(row)
            del model
            gc.collect()
    return dict(rows=rows)


# ---------------------------------------------------------------------------
# 2. training step (one process per variant)
# ---------------------------------------------------------------------------
#: glibc malloc with a fixed mmap threshold: every allocation of 128 KiB
#: or more is mapped on its own and unmapped when freed, so RSS follows
#: the live tensors (used for the live-memory round of ``train``).
LIVE_MEMORY_ENV = dict(MALLOC_MMAP_THRESHOLD_='131072')

#: name -> (label, lever / description, options of the worker)
TRAIN_VARIANTS = {
    'full_ft': ('Full fine-tuning', 'CLIPVisual(frozen=False) + TPCM',
                dict(backbone='full')),
    'frozen': ('Frozen + TPCM', 'CLIPVisual(frozen=True) + TPCM',
               dict(backbone='frozen')),
    'mafsar': ('MA-FSAR (default)',
               "lma_mode='parallel', fused_attn=True, with_cp=False, "
               'text cache', dict(backbone='fgma')),
    'mafsar_unfused': ('MA-FSAR, nn.MultiheadAttention',
                       'fused_attn=False (every attention through the '
                       "block's nn.MultiheadAttention)",
                       dict(backbone='fgma', fused_attn=False)),
    'mafsar_math_sdpa':
    ('MA-FSAR, unfused SDPA kernel', 'SDPA limited to the MATH backend',
     dict(backbone='fgma', sdpa='math')),
    'mafsar_serial': ('MA-FSAR serial', "lma_mode='serial'",
                      dict(backbone='fgma', lma_mode='serial')),
    'mafsar_cp': ('MA-FSAR + ckpt', 'with_cp=True',
                  dict(backbone='fgma', with_cp=True)),
    'mafsar_cp_mlp': ('MA-FSAR + MLP recompute',
                      "with_cp='mlp' (frozen MLP hidden recomputed)",
                      dict(backbone='fgma', with_cp='mlp')),
    'mafsar_no_text_cache':
    ('MA-FSAR, no text cache', 'CLIPTextEncoder(cache=False)',
     dict(backbone='fgma', text_cache=False)),
    'mafsar_frozen_grads': ('MA-FSAR, grads for frozen weights',
                            'frozen weights requires_grad=True (grads '
                            'computed, not stepped)',
                            dict(backbone='fgma', frozen_grads=True)),
    'mafsar_text_released':
    ('MA-FSAR, text tower released', 'text features precomputed, text tower '
     'weights freed', dict(backbone='fgma', release_text=True)),
    'full_ft_text_released': ('Full fine-tuning, text tower released',
                              'text features precomputed, text tower '
                              'weights freed',
                              dict(backbone='full', release_text=True)),
    'full_ft_2t': ('Full fine-tuning, 2 threads', 'torch.set_num_threads(2)',
                   dict(backbone='full', threads=2)),
    'mafsar_2t': ('MA-FSAR, 2 threads', 'torch.set_num_threads(2)',
                  dict(backbone='fgma', threads=2)),
}


class _FixedText:
    """Stands in for the text encoder once the class-name features are
    computed: the text tower's weights can then be freed."""

    def __init__(self, feats: dict) -> None:
        self.feats = feats

    def __repr__(self) -> str:
        return f'{type(self).__name__}({len(self.feats)} names)'

    def __call__(self, names: List[str]):
        import torch
        return torch.stack([self.feats[n] for n in names])


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


def _static_bytes(model, tunable: List, grads_for: List, state: dict) -> dict:
    """Exact bytes of the weights, gradients and AdamW state."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    grads = sum(p.numel() * p.element_size() for p in grads_for)
    adam = 0
    for per_param in state.values():
        for value in per_param.values():
            if hasattr(value, 'numel'):
                adam += value.numel() * value.element_size()
    return dict(
        weights=weights + buffers,
        grads=grads,
        optimizer=adam,
        tunable_params=sum(p.numel() for p in tunable))


def _profile_summary(prof, top: int) -> dict:
    """Self CPU time per op (top rows) and per op family."""
    families = (
        ('GEMM (linear, matmul)', ('addmm', 'mm', 'bmm', 'matmul', 'linear',
                                   'baddbmm')),
        ('attention kernel (SDPA)', ('scaled_dot_product', 'flash', '_softmax',
                                     'softmax')),
        ('layer norm', ('layer_norm', )),
        ('GELU', ('gelu', )),
        ('patch conv', ('conv', 'convolution')),
        ('copies (cat, copy, clone)',
         ('cat', 'copy', 'clone', 'contiguous', 'index', 'stack', 'expand',
          'repeat', 'transpose', 'view', 'reshape', 'permute', 'select',
          'slice')),
        ('optimizer (AdamW)', ('_foreach', 'adam', 'lerp', 'addcdiv',
                               'addcmul', 'sqrt')),
        ('elementwise', ('add', 'mul', 'sub', 'div', 'fill', 'zero', 'sum',
                         'mean', 'exp', 'pow', 'threshold')),
    )
    rows = []
    for evt in prof.key_averages():
        if evt.key.startswith('##') or not evt.key.startswith('aten::'):
            continue
        rows.append((evt.key, evt.self_cpu_time_total / 1e3, evt.count))
    rows.sort(key=lambda r: -r[1])
    total = sum(r[1] for r in rows) or 1.0
    fam = {}
    for name, ms, _ in rows:
        low = name[len('aten::'):].lower()
        label = 'other'
        for family, keys in families:
            if any(k in low for k in keys):
                label = family
                break
        fam[label] = fam.get(label, 0.0) + ms
    phases = {}
    for evt in prof.key_averages():
        if evt.key.startswith('##'):
            phases[evt.key.strip('# ')] = evt.cpu_time_total / 1e3
    return dict(
        total_ms=total,
        top=[
            dict(op=n, self_ms=ms, calls=c, share=ms / total)
            for n, ms, c in rows[:top]
        ],
        families={
            k: dict(self_ms=v, share=v / total)
            for k, v in sorted(fam.items(), key=lambda kv: -kv[1])
        },
        phases=phases)


def _saved_bytes(model, batch: Callable) -> int:
    """Bytes of the tensors autograd saves for backward in one forward
    pass (unique storages, parameters excluded): the activation memory.

    With non-reentrant checkpointing the tensors saved inside a
    checkpointed block are not kept (they are recomputed), and the block
    inputs the checkpoint keeps are not seen here.
    """
    from torch.autograd.graph import saved_tensors_hooks
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with saved_tensors_hooks(pack, lambda tensor: tensor):
        losses = model(**batch(), mode='loss')
        loss, _ = model.parse_losses(losses)
    del loss, losses
    return sum(seen.values())


def train_worker(variant: str,
                 arch: str,
                 size: int,
                 num_frames: int,
                 warmup: int,
                 steps: int,
                 profile: int = 0,
                 count_saved: bool = False) -> dict:
    """Build one variant, run training steps, measure time and memory.

    Runs in its own process (see :func:`run_train`). A step is
    preprocessing + forward + backward + AdamW step + ``zero_grad`` on a
    5-way 1-shot episode with 1 query per class (10 videos).

    Threads: 1 unless the variant says otherwise (see
    :data:`TRAIN_VARIANTS`): on a shared, oversubscribed machine every
    OpenMP barrier of a 2-thread op waits for a descheduled thread, which
    adds a scheduler time slice to each op and penalises models with
    more (small) ops.

    Memory: ``VmRSS`` after the imports is the baseline; ``VmHWM`` is
    reset once the model is built and read after the last step.
    ``peak`` = peak RSS during training - baseline, i.e. weights,
    gradients, optimizer state, activations, temporaries and allocator
    overhead (the CPU analogue of the peak GPU memory of a training run).

    Args:
        variant (str): A key of :data:`TRAIN_VARIANTS`.
        arch (str): CLIP architecture.
        size (int): Frame size.
        num_frames (int): Frames per video.
        warmup (int): Untimed steps first.
        steps (int): Timed steps.
        profile (int): After the timed steps, profile one more step and
            keep this many top ops (0: no profile). Defaults to 0.
        count_saved (bool): After the timed steps, count the activation
            bytes saved for backward (:func:`_saved_bytes`). Defaults to
            False.

    Returns:
        dict: Times (per step: ``wall``, ``cpu``, ``forward``,
        ``backward``, ``optimizer`` in s), memory (bytes) and the static
        byte counts.
    """
    import torch
    _import_package()
    release_free_memory()
    baseline = rss_bytes()
    opts = dict(TRAIN_VARIANTS[variant][2])
    kind = opts.pop('backbone')
    sdpa = opts.pop('sdpa', 'default')
    text_cache = opts.pop('text_cache', True)
    frozen_grads = opts.pop('frozen_grads', False)
    release_text = opts.pop('release_text', False)
    torch.set_num_threads(opts.pop('threads', 1))
    torch.manual_seed(0)
    model = build_model(
        recognizer_cfg(
            arch, kind, num_frames=num_frames, text_cache=text_cache, **opts))
    model.train()
    tunable = [p for p in model.parameters() if p.requires_grad]
    if frozen_grads:
        for param in model.backbone.parameters():
            param.requires_grad_(True)
    grads_for = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(tunable, lr=1e-4, weight_decay=0.05)
    inputs, sample = _episode(10, 5, 1, size, num_frames)
    if release_text:
        with torch.no_grad():
            feats = model.text_encoder(sample.class_names)
        # a plain attribute (not a submodule) replaces the text tower
        del model.text_encoder
        object.__setattr__(model, 'text_encoder',
                           _FixedText(dict(zip(sample.class_names, feats))))
    release_free_memory()
    after_build = rss_bytes()
    reset_ok = reset_peak_rss()
    if sdpa == 'math':
        from torch.nn.attention import SDPBackend, sdpa_kernel
        attn_ctx = sdpa_kernel([SDPBackend.MATH])
    else:
        attn_ctx = nullcontext()

    def batch() -> dict:
        return model.data_preprocessor(
            dict(inputs=[inputs], data_samples=[sample]), True)

    def step(record: Callable = nullcontext) -> dict:
        t0, c0 = time.perf_counter(), time.process_time()
        with record('forward'):
            losses = model(**batch(), mode='loss')
            loss, _ = model.parse_losses(losses)
        t1 = time.perf_counter()
        with record('backward'):
            loss.backward()
        t2 = time.perf_counter()
        with record('optimizer'):
            optimizer.step()
            model.zero_grad(set_to_none=True)
        t3, c3 = time.perf_counter(), time.process_time()
        return dict(
            wall=t3 - t0,
            cpu=c3 - c0,
            forward=t1 - t0,
            backward=t2 - t1,
            optimizer=t3 - t2,
            loss=float(loss.detach()))

    times = []
    with attn_ctx:
        for i in range(warmup + steps):
            out = step()
            if i >= warmup:
                times.append(out)
        peak = peak_rss_bytes()
        prof_summary = None
        if profile:
            from torch.profiler import ProfilerActivity
            from torch.profiler import profile as prof_
            from torch.profiler import record_function
            with prof_(activities=[ProfilerActivity.CPU]) as prof:
                step(lambda name: record_function(f'## {name} ##'))
            prof_summary = _profile_summary(prof, profile)
        saved = _saved_bytes(model, batch) if count_saved else None
    static = _static_bytes(model, tunable, grads_for, optimizer.state)
    return dict(
        variant=variant,
        arch=arch,
        size=size,
        num_frames=num_frames,
        steps=times,
        baseline_rss=baseline,
        after_build_rss=after_build,
        peak_rss=peak,
        peak=peak - baseline,
        peak_over_build=peak - after_build,
        hwm_reset=reset_ok,
        static=static,
        profile=prof_summary,
        saved=saved,
        load_average=list(os.getloadavg()),
        threads=torch.get_num_threads())


def _spawn_worker(args: List[str],
                  env: Optional[dict] = None,
                  attempts: int = 3) -> dict:
    """Run ``benchmark.py _train-worker ...`` in a fresh process (with
    extra environment variables ``env``) and parse its result.

    A worker killed by a signal (e.g. by someone else on a shared machine)
    is started again, up to ``attempts`` times; an error exit raises.
    """
    cmd = [sys.executable, osp.abspath(__file__), '_train-worker'] + args
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = ROOT + os.pathsep + full_env.get('PYTHONPATH', '')
    full_env.update(env or {})
    for attempt in range(attempts):
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=full_env)
        for line in proc.stdout.splitlines()[::-1]:
            if line.startswith(RESULT_TAG):
                return json.loads(line[len(RESULT_TAG):])
        if proc.returncode >= 0:
            break
        print(f'[train] worker {args[:2]} killed by signal '
              f'{-proc.returncode}; attempt {attempt + 2}/{attempts}')
    raise RuntimeError(f'worker {args} failed (exit {proc.returncode}):\n'
                       f'{proc.stderr[-3000:]}')


def run_train(variants: Sequence[str],
              arch: str,
              size: int,
              num_frames: int,
              rounds: int,
              warmup: int,
              steps: int,
              profile_variants: Sequence[str] = (),
              profile_top: int = 12,
              state: Optional[dict] = None,
              checkpoint: Optional[Callable] = None,
              log: Callable = print) -> dict:
    """Interleaved rounds of training-step workers, one process each.

    Round ``r`` runs every variant once, in an order rotated by ``r``, so
    slow phases of the shared machine hit all variants alike. A last,
    untimed round measures live memory: glibc malloc with a fixed mmap
    threshold of 128 KiB (:data:`LIVE_MEMORY_ENV`) maps every tensor of
    that size on its own and unmaps it when freed, so the peak RSS is the
    peak of the live tensors (the CPU analogue of
    ``torch.cuda.max_memory_allocated``); that round also counts the
    activations saved for backward.

    Args:
        variants (Sequence[str]): Keys of :data:`TRAIN_VARIANTS`.
        arch (str): CLIP architecture.
        size (int): Frame size.
        num_frames (int): Frames per video.
        rounds (int): Rounds (processes per variant).
        warmup (int): Untimed steps per process.
        steps (int): Timed steps per process.
        profile_variants (Sequence[str]): Variants profiled in one extra
            process each. Defaults to ().
        profile_top (int): Top ops kept per profile. Defaults to 12.
        state (dict, optional): The returned dict of an interrupted run
            with the same settings: finished workers are not run again.
            Defaults to None.
        checkpoint (callable, optional): Called with the state after every
            worker (to store it). Defaults to None.
        log (callable): Progress printer. Defaults to print.

    Returns:
        dict: ``runs`` (variant -> list of worker results), ``live``
        (variant -> live-memory worker result), ``profiles`` and the
        settings.
    """
    settings = dict(
        arch=arch,
        size=size,
        num_frames=num_frames,
        rounds=rounds,
        warmup=warmup,
        steps=steps,
        episode='5-way 1-shot, 1 query per class: 10 videos')
    if not state or any(state.get(k) != v for k, v in settings.items()):
        state = dict(settings, runs={}, live={}, profiles={})
    runs, live, profiles = state['runs'], state['live'], state['profiles']
    for variant in variants:
        runs.setdefault(variant, [])
    common = [
        '--arch', arch, '--size',
        str(size), '--num-frames',
        str(num_frames), '--warmup',
        str(warmup), '--steps',
        str(steps)
    ]
    variants = list(variants)
    for rnd in range(rounds + 1):
        shift = rnd % len(variants)
        memory_round = rnd == rounds
        for variant in variants[shift:] + variants[:shift]:
            done = (
                variant in live if memory_round else len(runs[variant]) > rnd)
            if done:  # finished before an interruption
                continue
            env = dict(TRAIN_VARIANTS[variant][2].get('env') or {})
            args = ['--variant', variant] + common
            if memory_round:
                env.update(LIVE_MEMORY_ENV)
                args += ['--count-saved']
            res = _spawn_worker(args, env)
            if memory_round:
                live[variant] = res
            else:
                runs[variant].append(res)
            if checkpoint is not None:
                checkpoint(state)
            log(f'[train] {"memory round" if memory_round else "round"} '
                f'{rnd + 1}/{rounds + 1} {variant}: '
                f'{median([s["wall"] for s in res["steps"]]):.2f} s/step, '
                f'peak {res["peak"] / 2**30:.2f} GiB, load '
                f'{res["load_average"][0]:.1f}')
    for variant in profile_variants:
        if variant in profiles:
            continue
        res = _spawn_worker(
            ['--variant', variant, '--profile',
             str(profile_top)] + common[:-4] +
            ['--warmup', '1', '--steps', '0'],
            TRAIN_VARIANTS[variant][2].get('env'))
        profiles[variant] = res['profile']
        if checkpoint is not None:
            checkpoint(state)
        log(f'[train] profiled {variant}')
    # only the requested variants (a resumed state may hold more)
    return dict(state, runs={v: runs[v] for v in variants})


def summarize_train(train: dict) -> dict:
    """Medians per variant and ratios to full fine-tuning."""
    out = {}
    for variant, runs in train['runs'].items():
        steps = [s for r in runs for s in r['steps']]
        out[variant] = dict(
            wall=median(s['wall'] for s in steps),
            cpu=median(s['cpu'] for s in steps),
            forward=median(s['forward'] for s in steps),
            backward=median(s['backward'] for s in steps),
            optimizer=median(s['optimizer'] for s in steps),
            peak=median(r['peak'] for r in runs),
            peak_over_build=median(r['peak_over_build'] for r in runs),
            static=runs[0]['static'],
            saved=(train.get('live', {}).get(variant) or {}).get('saved'),
            live=(train.get('live', {}).get(variant) or {}).get('peak'),
            n_steps=len(steps),
            load=median(r['load_average'][0] for r in runs))
    ref = out.get('full_ft')
    if ref:
        for row in out.values():
            row['time_ratio'] = row['wall'] / ref['wall']
            row['cpu_ratio'] = row['cpu'] / ref['cpu']
            row['memory_ratio'] = row['peak'] / ref['peak']
            if row['live'] is not None and ref['live']:
                row['live_ratio'] = row['live'] / ref['live']
    return out


# ---------------------------------------------------------------------------
# 3. evaluation: plain path vs feature cache
# ---------------------------------------------------------------------------
def _test_dataset(data_root: str, num_episodes: int):
    """The quickstart config's test split on ``data_root``."""
    from mmengine.config import Config
    cfg = Config.fromfile(QUICKSTART_CONFIG)
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = data_root
    ds_cfg.num_episodes = num_episodes
    from mmaction.registry import DATASETS
    return cfg, DATASETS.build(ds_cfg)


def run_eval(data_root: str,
             plain_episodes: int,
             cached_episodes: Sequence[int],
             seed: int = 0,
             log: Callable = print) -> dict:
    """Episodes per second of the plain and the cached test path.

    The model is the quickstart's MA-FSAR on the tiny CLIP with random
    weights; the tunable parameters are perturbed (seeded) so support
    features really depend on the class text. Both paths run in this
    process without loader workers.

    Args:
        data_root (str): Synthetic dataset root.
        plain_episodes (int): Episodes through the plain path (dataset
            item, preprocessor, ``model.predict``).
        cached_episodes (Sequence[int]): Checkpoints (episode counts) of
            the cached run; the largest is run in full.
        seed (int): Seed of the weight perturbation. Defaults to 0.
        log (callable): Progress printer. Defaults to print.

    Returns:
        dict: Times, rates, encoder passes and the comparison of the
        predictions on the common episodes.
    """
    import torch
    _import_package()
    from mmaction.registry import MODELS

    from mafsar_mm.engine import EpisodeFeatureCache
    total = max(max(cached_episodes), plain_episodes)
    cfg, dataset = _test_dataset(data_root, total)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(0.05 * torch.randn_like(param))
    num_videos = len(dataset.video_list())
    model.encode_text(['warm up'])  # loads the tokenizer (one-off cost)

    plain_labels, plain_correct = [], 0
    t0 = time.perf_counter()
    for episode_id in range(plain_episodes):
        item = dataset[episode_id]
        data = model.data_preprocessor(
            dict(inputs=[item['inputs']], data_samples=[item['data_samples']]),
            False)
        with torch.no_grad():
            pred = model.predict(data['inputs'], data['data_samples'])[0]
        plain_labels.append(pred.pred_labels.clone())
        plain_correct += int((pred.pred_labels == pred.query_labels).sum())
    plain_time = time.perf_counter() - t0
    log(f'[eval] plain: {plain_episodes} episodes in {plain_time:.1f} s')

    t0 = time.perf_counter()
    cache = EpisodeFeatureCache(model, dataset, batch_size=8).build()
    build_time = time.perf_counter() - t0
    log(f'[eval] cache built in {build_time:.1f} s')
    marks = sorted(set(cached_episodes) | {plain_episodes})
    at = {}
    same, cached_correct, cached_correct_all = True, 0, 0
    queries = 0
    t0 = time.perf_counter()
    for episode_id in range(max(marks)):
        pred = cache.predict_episode(episode_id)
        hits = int((pred.pred_labels == pred.query_labels).sum())
        cached_correct_all += hits
        if episode_id < plain_episodes:
            cached_correct += hits
            queries += len(pred.query_labels)
            same &= torch.equal(pred.pred_labels, plain_labels[episode_id])
        if episode_id + 1 in marks:
            at[episode_id + 1] = time.perf_counter() - t0
    per_query = dataset.n_way * dataset.n_query
    rows = []
    plain_rate = plain_episodes / plain_time
    for n in marks:
        cached_time = build_time + at[n]
        plain_n = n / plain_rate
        rows.append(
            dict(
                episodes=n,
                plain_s=plain_n,
                plain_measured=n <= plain_episodes,
                cached_s=cached_time,
                plain_eps=plain_rate,
                cached_eps=n / cached_time,
                speedup=plain_n / cached_time,
                plain_passes=n * dataset.n_way *
                (dataset.k_shot + dataset.n_query) / num_videos,
                cached_passes=cache.encoder_passes / num_videos))
    return dict(
        num_videos=num_videos,
        n_way=dataset.n_way,
        k_shot=dataset.k_shot,
        n_query=dataset.n_query,
        plain_episodes=plain_episodes,
        plain_time=plain_time,
        build_time=build_time,
        head_ms=1e3 * at[max(marks)] / max(marks),
        rows=rows,
        identical_predictions=bool(same),
        plain_accuracy=100 * plain_correct / (plain_episodes * per_query),
        cached_accuracy=100 * cached_correct / max(queries, 1),
        cached_accuracy_all=100 * cached_correct_all /
        (max(marks) * per_query),
        encoder_passes=cache.encoder_passes)


# ---------------------------------------------------------------------------
# 4. matchers
# ---------------------------------------------------------------------------
def run_matchers(dims: int,
                 num_frames: int,
                 n_way: int,
                 k_shot: int,
                 n_query: int,
                 reps: int,
                 episode_arch: str,
                 episode_reps: int,
                 log: Callable = print) -> dict:
    """Time the matchers and MA-FSAR's forward pass on one episode.

    Args:
        dims (int): Feature width D of the matcher inputs.
        num_frames (int): Frames T.
        n_way (int): Classes N.
        k_shot (int): Shots K.
        n_query (int): Queries per class.
        reps (int): Timed repetitions per matcher (interleaved).
        episode_arch (str): CLIP architecture of the MA-FSAR forward pass
            on the same episode (frames at its native size).
        episode_reps (int): Timed forward passes (after one warm-up).
        log (callable): Progress printer. Defaults to print.

    Returns:
        dict: Per matcher the median ms; the episode's forward ms, the
        cached episode's head ms; shares.
    """
    import torch
    _import_package()
    from mmaction.registry import MODELS
    gen = torch.Generator().manual_seed(0)
    support = torch.randn(n_way * k_shot, num_frames, dims, generator=gen)
    query = torch.randn(n_way * n_query, num_frames, dims, generator=gen)
    labels = torch.arange(n_way).repeat_interleave(k_shot)
    matchers = dict(
        OTAM=dict(type='OTAMMatcher'),
        BiMHM=dict(type='BiMHMMatcher'),
        TRX=dict(type='TRXMatcher', in_channels=dims, seq_len=num_frames),
        Proto=dict(type='ProtoMatcher'))
    mods = {k: MODELS.build(v).eval() for k, v in matchers.items()}
    times = {k: [] for k in mods}
    with torch.no_grad():
        for mod in mods.values():  # warm-up
            mod(support, labels, query)
        for _ in range(reps):
            for name, mod in mods.items():
                t0 = time.perf_counter()
                mod(support, labels, query)
                times[name].append(time.perf_counter() - t0)
    matcher_ms = {k: 1e3 * median(v) for k, v in times.items()}
    log(f'[matchers] {matcher_ms}')

    # the whole MA-FSAR forward pass on the same episode (predict mode)
    num_videos = n_way * (k_shot + n_query)
    size = clip_dims(episode_arch)['image_size']
    model = build_model(recognizer_cfg(episode_arch, num_frames=num_frames))
    model.eval()
    inputs, sample = _episode(num_videos, n_way, k_shot, size, num_frames)
    data = model.data_preprocessor(
        dict(inputs=[inputs], data_samples=[sample]), False)
    feats_dim = clip_dims(episode_arch)['embed_dim']
    fwd, head = [], []
    with torch.no_grad():
        for i in range(episode_reps + 1):
            t0 = time.perf_counter()
            model.predict(data['inputs'], data['data_samples'])
            if i:
                fwd.append(time.perf_counter() - t0)
        # the cached path runs only the head (TPCM + OTAM) per episode
        s_feat = torch.randn(
            n_way * k_shot, num_frames, feats_dim, generator=gen)
        q_feat = torch.randn(
            n_way * n_query, num_frames, feats_dim, generator=gen)
        text = model.encode_text(sample.class_names)
        for i in range(reps + 1):
            t0 = time.perf_counter()
            model.head.predict(s_feat, labels, q_feat, text)
            if i:
                head.append(time.perf_counter() - t0)
    episode_ms = 1e3 * median(fwd)
    head_ms = 1e3 * median(head)
    log(f'[matchers] episode forward {episode_ms:.0f} ms, head '
        f'{head_ms:.2f} ms')
    return dict(
        dims=dims,
        num_frames=num_frames,
        n_way=n_way,
        k_shot=k_shot,
        n_query=n_query,
        reps=reps,
        episode_arch=episode_arch,
        episode_size=size,
        episode_reps=episode_reps,
        matcher_ms=matcher_ms,
        episode_ms=episode_ms,
        head_ms=head_ms,
        share={
            k: v / episode_ms
            for k, v in matcher_ms.items()
        })


# ---------------------------------------------------------------------------
# 5. data loading
# ---------------------------------------------------------------------------
def _first(batch: list):
    """Collate of a one-episode batch (picklable for workers)."""
    return batch[0]


def _train_dataset(data_root: str, pipeline: str, n_query: int):
    """A training split with the quickstart or the 224 pipeline."""
    from mmaction.registry import DATASETS
    from mmengine.config import Config
    cfg = Config.fromfile(QUICKSTART_CONFIG)
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = data_root
    ds_cfg.n_query = n_query
    if pipeline == '224':
        ds_cfg.pipeline = Config.fromfile(DATA_224_CONFIG).train_pipeline
    return DATASETS.build(ds_cfg)


def _tiny_train_rate(data_root: str, n_query: int, steps: int) -> dict:
    """Videos per second of the quickstart model in training (random
    frames of the quickstart size, in this process)."""
    import torch
    from mmaction.registry import MODELS
    from mmengine.config import Config
    cfg = Config.fromfile(QUICKSTART_CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    num_videos = 5 * (1 + n_query)
    inputs, sample = _episode(num_videos, 5, 1, 64, 8)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        data = model.data_preprocessor(
            dict(inputs=[inputs], data_samples=[sample]), True)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        loss.backward()
        optimizer.step()
        model.zero_grad(set_to_none=True)
        if i:
            times.append(time.perf_counter() - t0)
    step = median(times)
    return dict(step_s=step, videos_per_s=num_videos / step)


def run_data(data_root: str,
             episodes: int,
             workers: Sequence[int],
             tiny_steps: int,
             train_summary: Optional[dict],
             log: Callable = print) -> dict:
    """Videos per second through the training pipelines.

    Args:
        data_root (str): Synthetic dataset root.
        episodes (int): Timed episodes per setting (after the first one,
            which includes the workers' start-up).
        workers (Sequence[int]): Loader worker counts.
        tiny_steps (int): Timed training steps of the quickstart model.
        train_summary (dict, optional): :func:`summarize_train` output,
            for the ViT-B/32 model's rate.
        log (callable): Progress printer. Defaults to print.

    Returns:
        dict: ``rows`` per (pipeline, workers) and the model rates.
    """
    from torch.utils.data import DataLoader
    _import_package()
    settings = (('quickstart', 'quickstart train pipeline (64 px)', 2),
                ('224', 'fewshot_video_224 train pipeline (224 px)', 1))
    rows = []
    for key, label, n_query in settings:
        dataset = _train_dataset(data_root, key, n_query)
        per_episode = dataset.n_way * (dataset.k_shot + dataset.n_query)
        for num_workers in workers:
            loader = DataLoader(
                dataset,
                batch_size=1,
                num_workers=num_workers,
                collate_fn=_first,
                sampler=range(episodes + 1))
            it = iter(loader)
            t_start = time.perf_counter()
            next(it)
            t0 = time.perf_counter()
            count = sum(1 for _ in it)
            elapsed = time.perf_counter() - t0
            del it, loader
            rows.append(
                dict(
                    pipeline=key,
                    label=label,
                    workers=num_workers,
                    videos_per_episode=per_episode,
                    first_s=t0 - t_start,
                    videos_per_s=count * per_episode / elapsed))
            log(f'[data] {key} workers={num_workers}: '
                f'{rows[-1]["videos_per_s"]:.1f} videos/s')
    tiny = _tiny_train_rate(data_root, 2, tiny_steps)
    model_rates = dict(
        quickstart=dict(
            label='MA-FSAR tiny CLIP (quickstart), training step', **tiny))
    if train_summary and 'mafsar' in train_summary:
        wall = train_summary['mafsar']['wall']
        model_rates['224'] = dict(
            label='MA-FSAR ViT-B/32, training step (section 2)',
            step_s=wall,
            videos_per_s=10 / wall)
    return dict(episodes=episodes, rows=rows, model_rates=model_rates)


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def _m(value: float) -> str:
    return f'{value / 1e6:.2f} M'


def _gib(value: float) -> str:
    return f'{value / 2**30:.2f}'


def _opt_gib(value: Optional[float]) -> str:
    return '-' if value is None else _gib(value)


def _ok(passed: bool) -> str:
    return 'met' if passed else '**missed**'


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> List[str]:
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join('---' for _ in header) + '|'
    ]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return lines


def render_params(res: dict) -> List[str]:
    """Markdown of the parameter section."""
    paper = {
        ('mafsar', 'ViT-B-32'): ('18.54 M', '151.3 M'),
        ('full_ft', 'ViT-B-32'): ('90.99 M', '-')
    }
    rows = []
    for r in res['rows']:
        p_tun, p_frozen = paper.get((r['key'], r['arch']), ('-', '-'))
        rows.append(
            (r['method'], r['arch'], _m(r['total']), _m(r['tunable']),
             _m(r['frozen']), f'{100 * r["tunable"] / r["total"]:.1f} %',
             p_tun, p_frozen, r['note']))
    lines = _table(
        ('method', 'CLIP', 'total', 'tunable', 'frozen', 'tunable share',
         'paper tunable', 'paper frozen', 'what is tuned'), rows)
    for r in res['rows']:
        if r['key'] == 'mafsar':
            parts = ', '.join(f'{k} {v:,d}' for k, v in r['parts'].items()
                              if v)
            lines += ['', f'MA-FSAR {r["arch"]} tunable parts: {parts}.']
    ref = {r['arch']: r for r in res['rows'] if r['key'] == 'full_ft'}
    for r in res['rows']:
        if r['key'] == 'mafsar' and r['arch'] in ref:
            ratio = r['tunable'] / ref[r['arch']]['tunable']
            lines += [
                '', f'{r["arch"]}: MA-FSAR tunes {ratio:.3f}x the '
                'parameters of full fine-tuning (paper: 18.54 / '
                '90.99 = 0.204x).'
            ]
    return lines


def render_train(res: dict) -> List[str]:
    """Markdown of the training section (tables, levers, profiles)."""
    summ = summarize_train(res)
    lines = [
        f'Setting: {res["episode"]}, {res["num_frames"]} frames, '
        f'{res["size"]}x{res["size"]}, CLIP {res["arch"]} architecture '
        'with random weights, fp32, AdamW over the tunable parameters. '
        f'Timed rounds: {res["rounds"]}; every round runs each variant in '
        f'a fresh process ({res["warmup"]} warm-up + {res["steps"]} timed '
        'steps), in an order rotated per round; one torch thread per '
        'process unless said otherwise. Times are medians over all timed '
        'steps; memory is the median over processes. A step is '
        'preprocessing + forward + backward + AdamW step + `zero_grad`.', '',
        '* **wall**: wall-clock time per step; **CPU**: CPU time of the '
        'process per step. CPU time is the robust measure here: the wall '
        'time also counts the time the process waited for a core on the '
        'shared machine.',
        '* **peak RSS**: peak resident memory during the steps (`VmHWM`, '
        'reset after the model is built) minus the RSS after the imports '
        '(before the model exists): weights + gradients + AdamW state + '
        'activations + temporaries + what glibc malloc keeps of freed '
        'memory, with the default allocator (what a user gets). Median '
        'of the timed processes. **dyn.**: peak RSS minus the RSS after '
        'the model is built (what training adds).',
        '* **live peak**: the same, measured in an extra untimed process '
        'per variant with `MALLOC_MMAP_THRESHOLD_=131072` (every block of '
        '128 KiB or more is mapped on its own and unmapped on free), so '
        'RSS follows the live tensors: the CPU analogue of '
        '`torch.cuda.max_memory_allocated`, free of allocator retention.',
        '* **saved act.**: bytes of the tensors autograd keeps for backward '
        '(one forward pass, unique storages, parameters excluded; with '
        'checkpointing only what lives outside the checkpointed blocks). '
        '**static**: exact bytes of weights (with buffers), gradients and '
        'AdamW state, from the tensors (gradients are freed after every '
        'step, so they never coexist with the activations).', ''
    ]
    rows = []
    for variant, s in summ.items():
        label, lever, _ = TRAIN_VARIANTS[variant]
        st = s['static']
        rows.append((label, lever, f'{st["tunable_params"] / 1e6:.2f} M',
                     f'{s["wall"]:.2f}', f'{s["cpu"]:.2f}',
                     f'{s["forward"]:.2f} / {s["backward"]:.2f} / '
                     f'{s["optimizer"]:.2f}', _gib(s['peak']),
                     _gib(s['peak_over_build']), _opt_gib(s.get('live')),
                     _opt_gib(s.get('saved')),
                     f'{_gib(st["weights"])} / {_gib(st["grads"])} / '
                     f'{_gib(st["optimizer"])}',
                     f'{s.get("time_ratio", float("nan")):.2f}',
                     f'{s.get("cpu_ratio", float("nan")):.2f}',
                     f'{s.get("memory_ratio", float("nan")):.2f}',
                     f'{s.get("live_ratio", float("nan")):.2f}'))
    lines += _table(
        ('variant', 'setting', 'tunable', 'wall s/step', 'CPU s/step',
         'fwd / bwd / opt s', 'peak RSS GiB', 'dyn. GiB', 'live peak GiB',
         'saved act. GiB', 'static GiB (w / g / opt)', 'wall vs full FT',
         'CPU vs full FT', 'RSS vs full FT', 'live vs full FT'), rows)
    return lines


TRAIN_NOTES = [
    'What the levers are:',
    '',
    '* **fused attention** (`CLIPViTFgMA(fused_attn=True)`, the default): '
    'the frozen attentions go through `CLIPViTFgMA._frozen_attention` '
    'instead of the block\'s `nn.MultiheadAttention`. (1) The projections '
    'run on contiguous batch-first tensors: `nn.MultiheadAttention` '
    'transposes to sequence-first, and `torch.matmul` with a frozen '
    'weight and a non-contiguous input that needs grad does not fold the '
    'batch into one GEMM but runs a batched matmul over an expanded '
    'weight (`aten::bmm`), forward and backward: the biggest slowdown '
    'found. (2) In `lma_mode=\'parallel\'` the q/k/v projection of the '
    'frame tokens is shared by the plain and the multimodal attention, '
    'and the keys/values of frame and extra tokens live in one tensor '
    '(nothing concatenated and saved twice). (3) The frozen output '
    'projection of the multimodal attention is folded into the LMA '
    'adapter\'s down-projection (`Adapter.forward_projected`). Outputs '
    'and gradients equal `nn.MultiheadAttention`\'s up to float rounding '
    '(tests). The "nn.MultiheadAttention" row is the path without it.',
    '* **SDPA kernel**: both paths call `F.scaled_dot_product_attention` '
    '(open_clip\'s `nn.MultiheadAttention` with `need_weights=False` does '
    'too), which picks the fused CPU flash-attention kernel; the '
    '"unfused SDPA kernel" row limits it to the MATH backend.',
    '* **`lma_mode=\'serial\'`**: one (multimodal) attention per block '
    'instead of the plain + multimodal pair of the default '
    '`\'parallel\'` (SPEC.md 2.2; a different model, shown for cost).',
    '* **`with_cp=True`**: gradient checkpointing of every adapted frozen '
    'block: only the block inputs are kept, the forward runs twice.',
    "* **`with_cp='mlp'`**: only the hidden activation of each frozen MLP "
    '(`gelu(c_fc(x))`, the largest tensor autograd keeps for an adapted '
    'block) is recomputed in the backward pass, from the MLP input the '
    'joint adapter keeps anyway: one extra `c_fc` GEMM per block.',
    '* **no gradients for frozen weights** (the default): the "grads for '
    'frozen weights" row sets `requires_grad=True` on the frozen tower '
    '(gradients computed, not stepped) to show what freezing saves: the '
    'weight-gradient GEMMs, the gradient buffers, and the activations '
    'autograd keeps only for them (a linear layer\'s input is saved only '
    'when its weight needs a gradient).',
    '* **text features**: `CLIPTextEncoder(cache=True)` (the default) '
    'encodes each class name once; "no text cache" runs the text tower '
    'every step. "text tower released": the features of the (finite) '
    'training class names are computed once and the text tower\'s weights '
    'are freed (a memory lever; shown for full fine-tuning too).',
    '* **threads**: every row runs 1 torch thread per process except the '
    '"2 threads" rows. The machine is shared and oversubscribed: with 2 '
    'threads each OpenMP barrier waits for a descheduled thread, which '
    'adds a scheduler time slice to every op (penalising models with more '
    'small ops) and spins on the CPU.',
]


def render_train_levers(res: dict) -> List[str]:
    """Markdown: each lever against its method's default (``mafsar_*``
    against ``mafsar``, ``full_ft_*`` against ``full_ft``)."""
    summ = summarize_train(res)
    rows = []
    for base_name in ('mafsar', 'full_ft'):
        base = summ.get(base_name)
        if not base:
            continue
        for variant, s in summ.items():
            if not variant.startswith(base_name + '_'):
                continue
            label, lever, _ = TRAIN_VARIANTS[variant]
            rows.append((label, lever, TRAIN_VARIANTS[base_name][0],
                         f'{s["wall"] / base["wall"]:.2f}x',
                         f'{s["cpu"] / base["cpu"]:.2f}x',
                         f'{(s["peak"] - base["peak"]) / 2**30:+.2f} GiB '
                         f'({s["peak"] / base["peak"]:.2f}x)'))
    return _table(
        ('variant', 'lever', 'against', 'wall', 'CPU', 'peak memory'), rows)


def _gelu_input_bytes(train: dict) -> Optional[int]:
    """Bytes of the frozen MLPs' GELU inputs of one episode (kept for
    backward by every method that back-propagates through the tower)."""
    try:
        import open_clip
        vision = open_clip.get_model_config(train['arch'])['vision_cfg']
    except Exception:  # tiny or unknown architectures
        return None
    tokens = (train['size'] // vision['patch_size'])**2 + 1
    frames = 10 * train['num_frames']
    width = vision['width']
    return frames * tokens * int(width * vision.get('mlp_ratio', 4.0)) * \
        4 * vision['layers']


def render_train_findings(res: dict) -> List[str]:
    """Sentences computed from the training results (what each lever
    did, where the time and memory go)."""
    summ = summarize_train(res)
    m, f = summ.get('mafsar'), summ.get('full_ft')
    if not m or not f:
        return []

    def ratio(a: str, b: str, key: str) -> Optional[float]:
        if a in summ and b in summ and summ[b].get(key):
            return summ[a][key] / summ[b][key]
        return None

    lines = [
        f'* Per phase (medians, wall): MA-FSAR\'s forward takes '
        f'{m["forward"] / f["forward"]:.2f}x the time of full '
        'fine-tuning\'s (GTA attention, plain + multimodal attention, '
        f'adapters), its backward {m["backward"] / f["backward"]:.2f}x '
        '(no weight-gradient GEMMs for the frozen tower) and its optimizer '
        f'step {m["optimizer"] / max(f["optimizer"], 1e-9):.2f}x '
        f'({m["static"]["tunable_params"] / 1e6:.1f} M instead of '
        f'{f["static"]["tunable_params"] / 1e6:.1f} M parameters).'
    ]
    uf = ratio('mafsar_unfused', 'mafsar', 'cpu')
    if uf:
        lines.append(
            f'* Fused attention: without it MA-FSAR needs {uf:.2f}x the CPU '
            f'time ({ratio("mafsar_unfused", "mafsar", "wall"):.2f}x wall) '
            'and '
            f'{(summ["mafsar_unfused"]["peak"] - m["peak"]) / 2**30:+.2f} '
            'GiB of peak RSS; it is the lever that matters most for time.')
    sd = ratio('mafsar_math_sdpa', 'mafsar', 'cpu')
    if sd:
        lines.append(
            f'* Fused SDPA kernel: the MATH backend costs {sd:.2f}x the CPU '
            'time and '
            f'{(summ["mafsar_math_sdpa"]["peak"] - m["peak"]) / 2**30:+.2f} '
            'GiB (it materialises the attention matrices).')

    def recompute(variant: str, what: str) -> Optional[str]:
        """The finding of a recomputation (checkpointing) variant."""
        cpu = ratio(variant, 'mafsar', 'cpu')
        if not cpu:
            return None
        mem = ratio(variant, 'full_ft', 'peak')
        time_ = ratio(variant, 'full_ft', 'cpu')
        live = ratio(variant, 'full_ft', 'live')
        live = f', live peak {live:.2f}x' if live else ''
        return (f'* {what}: peak RSS {ratio(variant, "mafsar", "peak"):.2f}x '
                f'of the default ({mem:.2f}x of full fine-tuning{live}) for '
                f'{cpu:.2f}x the CPU time ({time_:.2f}x of full '
                f'fine-tuning): memory target '
                f'{_ok(mem <= TARGETS["train_memory"])}, time target '
                f'{_ok(time_ <= TARGETS["train_time"])}.')

    for variant, what in (
        ('mafsar_cp', 'Gradient checkpointing'),
        ('mafsar_cp_mlp', "Recomputing only the frozen MLPs' hidden "
         "activation (`with_cp='mlp'`)")):
        line = recompute(variant, what)
        if line:
            lines.append(line)
    sr = ratio('mafsar_serial', 'mafsar', 'cpu')
    if sr:
        lines.append(
            f"* `lma_mode='serial'`: {sr:.2f}x the CPU time and "
            f'{ratio("mafsar_serial", "mafsar", "peak"):.2f}x the peak '
            'RSS of the default parallel mode (one attention per block '
            'instead of two, but a different model).')
    fg = ratio('mafsar_frozen_grads', 'mafsar', 'cpu')
    if fg:
        cost = summ['mafsar_frozen_grads']['peak'] - m['peak']
        lines.append(
            '* No gradients for frozen weights: computing them would cost '
            f'{fg:.2f}x the CPU time and {cost / 2**30:+.2f} GiB.')
    tc = ratio('mafsar_no_text_cache', 'mafsar', 'cpu')
    if tc:
        lines.append(
            f'* Text cache: without it a step costs {tc:.2f}x the CPU time '
            '(5 prompts through the text tower per step).')
    tr = ratio('mafsar_text_released', 'mafsar', 'peak')
    if tr:
        gain = summ['mafsar_text_released']['peak'] - m['peak']
        lines.append(
            '* Releasing the text tower after precomputing the class-name '
            f'features: {tr:.2f}x the peak RSS ({gain / 2**30:+.2f} GiB); '
            'full fine-tuning gains about the same absolute amount.')
    t2 = ratio('mafsar_2t', 'full_ft_2t', 'wall')
    if t2:
        lines.append(
            f'* Threads: with 2 torch threads per process MA-FSAR takes '
            f'{t2:.2f}x the wall time of full fine-tuning '
            f'({ratio("mafsar_2t", "full_ft_2t", "cpu"):.2f}x CPU) instead '
            f'of {m["wall"] / f["wall"]:.2f}x with 1 thread: on this '
            'oversubscribed machine each of its (more numerous, smaller) '
            'ops waits at OpenMP barriers for a descheduled thread. This is '
            'a property of the shared machine, not of the model; the '
            'comparison uses 1 thread.')
    if m.get('saved') and f.get('saved'):
        gelu = _gelu_input_bytes(res)
        extra = (f' The largest single item, in both, is the input of the '
                 f'frozen MLPs\' GELU ({_gib(gelu)} GiB).' if gelu else '')
        lines.append(
            f'* Activations saved for backward: MA-FSAR {_gib(m["saved"])} '
            f'GiB, full fine-tuning {_gib(f["saved"])} GiB '
            f'({m["saved"] / f["saved"]:.2f}x): frozen linear layers do '
            'not keep their inputs, but the frozen tower is still '
            'back-propagated through (every block has adapters), and the '
            'extra attention and adapters keep their own.' + extra)
    stalled = [(v, s['wall'], s['cpu']) for v, runs in res['runs'].items()
               for r in runs for s in r['steps'] if s['wall'] > 5 * s['cpu']]
    if stalled:
        lines.append(
            '* Stalled samples (wall > 5x CPU time: the process was paused '
            'or starved by the shared machine; the medians over the rounds '
            'keep them out): ' +
            ', '.join(f'{TRAIN_VARIANTS[v][0]} {w:.0f} s wall / {c:.0f} s CPU'
                      for v, w, c in stalled) + '.')
    if m.get('live') and f.get('live'):
        lines.append(
            f'* Allocator: peak RSS exceeds the live peak by '
            f'{(m["peak"] - m["live"]) / 2**30:.2f} GiB for MA-FSAR and '
            f'{(f["peak"] - f["live"]) / 2**30:.2f} GiB for full '
            'fine-tuning (freed memory glibc keeps).')
    return lines


def render_profiles(res: dict) -> List[str]:
    """Markdown of the step profiles (op families and top ops)."""
    profiles = res.get('profiles') or {}
    if not profiles:
        return []
    names = list(profiles)
    families = []
    for prof in profiles.values():
        for fam in prof['families']:
            if fam not in families:
                families.append(fam)
    rows = []
    for fam in families:
        cells = []
        for name in names:
            got = profiles[name]['families'].get(fam)
            cells.append(f'{got["self_ms"] / 1e3:.2f} s '
                         f'({100 * got["share"]:.0f} %)' if got else '-')
        rows.append([fam] + cells)
    rows.append(['**total self CPU**'] +
                [f'{profiles[n]["total_ms"] / 1e3:.2f} s' for n in names])
    for phase in ('forward', 'backward', 'optimizer'):
        rows.append([f'phase: {phase} (incl. children)'] + [
            f'{profiles[n]["phases"].get(phase, float("nan")) / 1e3:.2f} s'
            for n in names
        ])
    lines = _table(['op family (self CPU time)'] +
                   [TRAIN_VARIANTS[n][0] for n in names], rows)
    for name in names:
        lines += [
            '', f'Top ops of **{TRAIN_VARIANTS[name][0]}** by self '
            'CPU time (one profiled step):', ''
        ]
        lines += _table(('op', 'self CPU s', 'share', 'calls'),
                        [(t['op'], f'{t["self_ms"] / 1e3:.2f}',
                          f'{100 * t["share"]:.1f} %', t['calls'])
                         for t in profiles[name]['top']])
    return lines


def render_eval(res: dict) -> List[str]:
    """Markdown of the evaluation section."""
    rows = []
    for r in res['rows']:
        rows.append(
            (r['episodes'],
             f'{r["plain_s"]:.1f}' + ('' if r['plain_measured'] else ' *'),
             f'{r["cached_s"]:.1f}', f'{r["plain_eps"]:.2f}',
             f'{r["cached_eps"]:.1f}', f'**{r["speedup"]:.1f}x**',
             f'{r["plain_passes"]:.1f}', f'{r["cached_passes"]:.1f}'))
    lines = _table(
        ('episodes', 'plain s', 'cached s (build + episodes)',
         'plain episodes/s', 'cached episodes/s', 'speed-up',
         'plain encoder passes / video', 'cached encoder passes / video'),
        rows)
    lines += [
        '', f'\\* extrapolated from the {res["plain_episodes"]} measured '
        'plain episodes (the plain path does the same work every '
        'episode).', '',
        f'Cache build: {res["build_time"]:.1f} s for {res["num_videos"]} '
        f'videos ({res["encoder_passes"]} encoder passes: query branch + '
        'text-conditioned support branch); then '
        f'{res["head_ms"]:.2f} ms per episode (TPCM + OTAM + text branch). '
        f'Accuracy on the {res["plain_episodes"]} common episodes: plain '
        f'{res["plain_accuracy"]:.2f} %, cached '
        f'{res["cached_accuracy"]:.2f} %; predictions identical: '
        f'**{res["identical_predictions"]}** (random-weight model, so the '
        'accuracy itself is near chance; what matters is that it is the '
        'same).'
    ]
    return lines


def render_matchers(res: dict) -> List[str]:
    """Markdown of the matcher section."""
    rows = []
    for name, ms in res['matcher_ms'].items():
        free = name != 'TRX'
        share = res['share'][name]
        rows.append((name, 'yes' if free else 'no (TRX cross-transformer)',
                     f'{ms:.3f}', f'{100 * share:.3f} %',
                     f'{100 * ms / res["head_ms"]:.0f} %',
                     _ok(share < TARGETS['matcher_share']) if free else 'n/a'))
    lines = _table(('matcher', 'parameter-free', 'ms per episode',
                    'share of the MA-FSAR forward pass', 'vs cached head time',
                    'target < 2 %'), rows)
    lines += [
        '', f'Episode: {res["n_way"]}-way {res["k_shot"]}-shot, '
        f'{res["n_query"]} queries per class, D = {res["dims"]}, '
        f'T = {res["num_frames"]}; median of {res["reps"]} interleaved runs '
        '(inference, no grad). Episode total: MA-FSAR '
        f'{res["episode_arch"]} forward pass (`predict`, '
        f'{res["n_way"] * (res["k_shot"] + res["n_query"])} videos x '
        f'{res["num_frames"]} frames x {res["episode_size"]}^2, text '
        f'cached) = {res["episode_ms"] / 1e3:.2f} s (median of '
        f'{res["episode_reps"]}). With the feature cache an episode only '
        f'runs the head (TPCM + matcher + text branch): '
        f'{res["head_ms"]:.2f} ms; the last column is the matcher time as '
        'a share of that.'
    ]
    return lines


def render_data(res: dict) -> List[str]:
    """Markdown of the data-loading section."""
    rows = []
    for r in res['rows']:
        model = res['model_rates'].get(r['pipeline'])
        m_rate = model['videos_per_s'] if model else float('nan')
        rows.append((r['label'], r['workers'], f'{r["videos_per_s"]:.1f}',
                     f'{m_rate:.1f}' if model else 'run `train`',
                     f'{r["videos_per_s"] / m_rate:.1f}x' if model else '-'))
    lines = _table(('pipeline', 'workers', 'loader videos/s',
                    'model videos/s (training)', 'loader / model'), rows)
    lines += [
        '', f'Timed over {res["episodes"]} training episodes after '
        'the first (which pays the workers\' start-up); each video '
        'is decoded with decord and goes through the whole '
        'pipeline. Model rates:'
    ]
    for key, model in res['model_rates'].items():
        lines.append(f'* {model["label"]}: {model["step_s"]:.3f} s/step, '
                     f'{model["videos_per_s"]:.1f} videos/s.')
    return lines


def _train_summary(train: dict) -> List[str]:
    """The table of training ratios next to the targets."""
    summ = summarize_train(train)
    if 'full_ft' not in summ:
        return []
    best = train.get('recommended', 'mafsar')
    mem_t, time_t = TARGETS['train_memory'], TARGETS['train_time']

    def cell(value: Optional[float], target: float) -> str:
        if value is None:
            return '-'
        return f'**{value:.2f}x** ({_ok(value <= target)})'

    rows = [('target', f'<= {mem_t}', f'<= {mem_t}', f'<= {time_t}',
             f'<= {time_t}'),
            ('paper (one GPU)', '0.88x (11.9 / 13.5 GB)', '-',
             '0.88x (3.0 / 3.4 h per 10k tasks)', '-')]
    # the default, the recommended variant, then the memory levers
    pairs = [(v, 'full_ft') for v in dict.fromkeys((
        'mafsar', best, 'mafsar_cp_mlp', 'mafsar_cp', 'mafsar_serial'))]
    pairs.append(('mafsar_text_released', 'full_ft_text_released'))
    for mine, ref in pairs:
        if mine not in summ or ref not in summ:
            continue
        a, b = summ[mine], summ[ref]
        live = (
            a['live'] / b['live'] if a.get('live') and b.get('live') else None)
        rows.append((f'{TRAIN_VARIANTS[mine][0]} vs '
                     f'{TRAIN_VARIANTS[ref][0].lower()}',
                     cell(a['peak'] / b['peak'], mem_t), cell(live, mem_t),
                     cell(a['wall'] / b['wall'],
                          time_t), cell(a['cpu'] / b['cpu'], time_t)))
    return [
        f'Training step (CLIP {train["arch"]}, 5-way 1-shot, '
        f'{train["num_frames"]} frames x {train["size"]}^2), ratios to full '
        'fine-tuning:', ''
    ] + _table(('', 'memory: peak RSS', 'memory: live peak', 'time: wall',
                'time: CPU'), rows)


def _summary(results: dict) -> List[str]:
    """The headline lines: measured ratios next to the targets."""
    lines = []
    if 'train' in results:
        lines += _train_summary(results['train']) + ['']
    if 'params' in results:
        for r in results['params']['rows']:
            if r['key'] == 'mafsar':
                lines.append(f'* Tunable parameters, MA-FSAR {r["arch"]}: '
                             f'{_m(r["tunable"])} of {_m(r["total"])}.')
    if 'eval' in results:
        best = max(results['eval']['rows'], key=lambda r: r['episodes'])
        lines.append(
            f'* Evaluation, {best["episodes"]} episodes 5-way 1-shot: '
            f'feature cache **{best["speedup"]:.1f}x** faster (target >= '
            f'20x, {_ok(best["speedup"] >= TARGETS["eval_speedup"])}), '
            f'{best["cached_passes"]:.0f} encoder passes per video instead '
            f'of {best["plain_passes"]:.0f}; identical predictions: '
            f'{results["eval"]["identical_predictions"]}.')
    if 'matchers' in results:
        share = results['matchers']['share']
        free = {k: v for k, v in share.items() if k != 'TRX'}
        lines.append(
            '* Matchers (5-way 5-shot, 5 queries per class): ' +
            ', '.join(f'{k} {100 * v:.3f} %' for k, v in share.items()) +
            ' of the episode forward pass (target < 2 % for the '
            f'parameter-free ones, {_ok(max(free.values()) < 0.02)}).')
    if 'data' in results:
        data = results['data']
        worst = []
        for key, model in data['model_rates'].items():
            rates = [
                r['videos_per_s'] for r in data['rows'] if r['pipeline'] == key
            ]
            if rates:
                worst.append(max(rates) / model['videos_per_s'])
        if worst:
            lines.append(
                '* Data loading: the best loader setting delivers ' +
                ' / '.join(f'{w:.1f}x' for w in worst) +
                ' the videos the model consumes (quickstart / 224 px): ' +
                ('not the bottleneck.' if min(worst) >
                 1 else '**the bottleneck**.'))
    return lines


def render_report(results: dict, command: str) -> str:
    """The whole markdown report."""
    info = results.get('machine', {})
    quick = results.get('quick', False)
    lines = [
        '# Benchmarks', '',
        '<!-- Generated by tools/analysis/benchmark.py; do not edit by '
        'hand. -->', '',
        'Efficiency of MA-FSAR against full fine-tuning and the baselines '
        '(GitHub issue 7). **Everything runs on CPU** (there is no GPU on '
        'the machine); every model uses random weights of the real '
        'architecture (`pretrained=None`), which does not change time or '
        'memory.', ''
    ]
    if quick:
        lines += [
            '**Quick smoke run (`--quick`): tiny sizes, the numbers '
            'mean nothing.**', ''
        ]
    lines += [
        'Regenerate this page (all sections, about an hour on the '
        'machine below):', '', '```bash', command, '```', '',
        'One section: replace `all` with `params`, `train`, `eval`, '
        '`matchers` or `data` (the others are kept from '
        f'`{results.get("results_file", "the JSON file")}`).', '',
        '## Summary', ''
    ]
    lines += _summary(results) or ['(no results yet)']
    lines += ['', '## Machine', '']
    sect_info = results.get('section_machine', {})
    lines += _table(('', ''), [
        ('CPU', info.get('cpu')),
        ('logical cores / torch threads',
         f'{info.get("logical_cores")} / {info.get("torch_threads")}'),
        ('memory', f'{info.get("memory_gib")} GiB'),
        ('GPU', info.get('gpu')),
        ('Python / torch / open_clip',
         f'{info.get("python")} / {info.get("torch")} / '
         f'{info.get("open_clip")}'),
        ('platform', info.get('platform')),
    ] + [(f'{name} run', f'{m["date"]}, load average (1 min) at start '
          f'{m["load_average"][0]:.1f}') for name, m in sect_info.items()])
    lines += [
        '', 'The machine is shared (other developers\' jobs ran at '
        'the same time, see the load averages), so absolute times '
        'are noisy; variants are measured side by side in one run, '
        'interleaved, and compared through ratios of medians.', ''
    ]
    renders = dict(
        params=('1. Parameters', render_params),
        train=('2. Training step: memory and time', render_train),
        eval=('3. Evaluation: feature cache', render_eval),
        matchers=('4. Matchers', render_matchers),
        data=('5. Data loading', render_data))
    for name in SECTIONS:
        title, fn = renders[name]
        lines += [f'## {title}', '']
        if name not in results:
            lines += ['(not run yet)', '']
            continue
        lines += fn(results[name]) + ['']
        if name == 'train':
            levers = render_train_levers(results['train'])
            if levers:
                lines += [
                    '### Levers', '',
                    'Each row against its method\'s default run '
                    '(ratios of medians):', ''
                ] + levers + ['']
                lines += TRAIN_NOTES + ['']
            notes = results['train'].get('notes')
            if notes:
                lines += notes + ['']
            findings = render_train_findings(results['train'])
            if findings:
                lines += ['### Findings', ''] + findings + ['']
            prof = render_profiles(results['train'])
            if prof:
                lines += ['### Where the time goes (torch.profiler)', '']
                lines += prof + ['']
    return '\n'.join(lines).rstrip() + '\n'


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------
def _settings(quick: bool) -> dict:
    """Sizes of every section (full run or ``--quick`` smoke run)."""
    if quick:
        return dict(
            archs=('tiny', ),
            extra_archs={},
            train_arch='tiny',
            train_size=64,
            train_frames=4,
            rounds=1,
            warmup=0,
            steps=1,
            variants=('full_ft', 'frozen', 'mafsar', 'mafsar_cp'),
            profile=('mafsar', ),
            plain_episodes=3,
            cached_episodes=(3, 6),
            matcher_dims=64,
            matcher_reps=3,
            episode_arch='tiny',
            episode_reps=1,
            data_episodes=2,
            workers=(0, 1),
            tiny_steps=1)
    return dict(
        archs=('ViT-B-32', ),
        extra_archs=dict(
            mafsar=('ViT-B-16', ),
            clip_fsar=('ViT-B-16', ),
            full_ft=('ViT-B-16', )),
        train_arch='ViT-B-32',
        train_size=224,
        train_frames=8,
        rounds=3,
        warmup=1,
        steps=1,
        variants=tuple(TRAIN_VARIANTS),
        profile=('full_ft', 'mafsar'),
        plain_episodes=200,
        cached_episodes=(200, 500, 10000),
        matcher_dims=512,
        matcher_reps=50,
        episode_arch='ViT-B-32',
        episode_reps=3,
        data_episodes=30,
        workers=(0, 1, 2),
        tiny_steps=5)


def _ensure_synthetic(data_root: Optional[str], quick: bool) -> str:
    """The synthetic dataset root; a small one is made for ``--quick``."""
    if data_root and osp.isfile(osp.join(data_root, 'meta.json')):
        return data_root
    if data_root is None and not quick:
        default = osp.join(ROOT, 'data', 'synthetic')
        if osp.isfile(osp.join(default, 'meta.json')):
            return default
    from mafsar_mm.datasets.synthetic import make_synthetic_dataset
    root = data_root or osp.join(tempfile.gettempdir(),
                                 'mafsar_benchmark_synthetic')
    if not osp.isfile(osp.join(root, 'meta.json')):
        print(f'[data] writing a synthetic dataset to {root}')
        make_synthetic_dataset(
            root,
            videos_per_class=4 if quick else 20,
            num_frames=16,
            size=96,
            seed=0,
            workers=1)
    return root


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Efficiency benchmarks of MA-FSAR (issue 7)')
    parser.add_argument(
        'command',
        choices=SECTIONS + ('all', 'report'),
        help='a section, all of them, or `report` (only '
        're-render the report from the stored results)')
    parser.add_argument(
        '--out',
        default=osp.join('docs', 'benchmarks.md'),
        help='markdown report to (re)write')
    parser.add_argument(
        '--results',
        default=None,
        help='JSON with the raw results (default: --out '
        'with .json)')
    parser.add_argument(
        '--quick', action='store_true', help='tiny sizes, for smoke tests')
    parser.add_argument(
        '--data-root',
        default=None,
        help='synthetic dataset (default: data/synthetic, '
        'made in a temp dir when missing)')
    parser.add_argument(
        '--variants',
        nargs='+',
        default=None,
        choices=list(TRAIN_VARIANTS),
        help='training variants (default: all)')
    parser.add_argument(
        '--rounds',
        type=int,
        default=None,
        help='training rounds (processes per variant)')
    parser.add_argument(
        '--fresh',
        action='store_true',
        help='`train`: ignore the workers of an interrupted run stored in '
        'the results file (default: reuse them when the settings match)')
    parser.add_argument(
        '--no-profile',
        action='store_true',
        help='skip the torch.profiler runs of `train`')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads (the training variants set '
        'their own, default 1)')
    parser.add_argument(
        '--recommended',
        default=None,
        choices=list(TRAIN_VARIANTS),
        help='MA-FSAR variant quoted in the summary next '
        'to the default')
    return parser.parse_args(argv)


def _worker_main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--variant', required=True)
    parser.add_argument('--arch', required=True)
    parser.add_argument('--size', type=int, required=True)
    parser.add_argument('--num-frames', type=int, required=True)
    parser.add_argument('--warmup', type=int, required=True)
    parser.add_argument('--steps', type=int, required=True)
    parser.add_argument('--profile', type=int, default=0)
    parser.add_argument('--count-saved', action='store_true')
    args = parser.parse_args(argv)
    res = train_worker(args.variant, args.arch, args.size, args.num_frames,
                       args.warmup, args.steps, args.profile, args.count_saved)
    print(RESULT_TAG + json.dumps(res))


def main(argv: Optional[List[str]] = None) -> dict:
    """Run a sub-command, store its results and rewrite the report.

    Args:
        argv (list[str], optional): Arguments (default: ``sys.argv``).

    Returns:
        dict: All stored results.
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == '_train-worker':
        _worker_main(argv[1:])
        return {}
    args = parse_args(argv)
    _import_package()
    import torch
    torch.set_num_threads(args.threads)
    cfg = _settings(args.quick)
    results_file = args.results or osp.splitext(args.out)[0] + '.json'
    results = {}
    if osp.isfile(results_file):
        with open(results_file) as f:
            results = json.load(f)
        if results.get('quick', False) != args.quick:
            results = {}  # never mix quick and full numbers
    results['quick'] = args.quick
    results['results_file'] = osp.relpath(results_file, ROOT) \
        if osp.isabs(results_file) else results_file
    results['machine'] = machine_info()
    results.setdefault('section_machine', {})
    todo = {'all': RUN_ORDER, 'report': ()}.get(args.command, (args.command, ))
    if args.recommended and 'train' in results:
        results['train']['recommended'] = args.recommended

    def save() -> None:
        os.makedirs(osp.dirname(osp.abspath(results_file)), exist_ok=True)
        with open(results_file, 'w') as f:
            json.dump(results, f, indent=1)
        command = ' '.join([
            'python tools/analysis/benchmark.py', 'all', '--out',
            shlex.quote(args.out)
        ] + (['--quick'] if args.quick else []))
        with open(args.out, 'w') as f:
            f.write(render_report(results, command))

    for name in todo:
        results['section_machine'][name] = dict(
            date=datetime.datetime.now().isoformat(timespec='seconds'),
            load_average=list(os.getloadavg()))
        t0 = time.perf_counter()
        if name == 'params':
            results['params'] = run_params(cfg['archs'], cfg['extra_archs'])
        elif name == 'train':
            variants = args.variants or cfg['variants']

            def checkpoint(state: dict) -> None:
                results['train_partial'] = state
                save()

            train = run_train(
                variants,
                cfg['train_arch'],
                cfg['train_size'],
                cfg['train_frames'],
                args.rounds or cfg['rounds'],
                cfg['warmup'],
                cfg['steps'], () if args.no_profile else cfg['profile'],
                state=None if args.fresh else results.get('train_partial'),
                checkpoint=checkpoint)
            results.pop('train_partial', None)
            previous = results.get('train', {})
            train['recommended'] = args.recommended or previous.get(
                'recommended', 'mafsar')
            if previous.get('notes'):
                train['notes'] = previous['notes']
            results['train'] = train
        elif name == 'eval':
            root = _ensure_synthetic(args.data_root, args.quick)
            results['eval'] = run_eval(root, cfg['plain_episodes'],
                                       cfg['cached_episodes'])
        elif name == 'matchers':
            results['matchers'] = run_matchers(cfg['matcher_dims'], 8, 5, 5, 5,
                                               cfg['matcher_reps'],
                                               cfg['episode_arch'],
                                               cfg['episode_reps'])
        elif name == 'data':
            root = _ensure_synthetic(args.data_root, args.quick)
            summ = (
                summarize_train(results['train'])
                if 'train' in results else None)
            results['data'] = run_data(root, cfg['data_episodes'],
                                       cfg['workers'], cfg['tiny_steps'], summ)
        results['section_machine'][name]['seconds'] = \
            time.perf_counter() - t0
        save()
        print(f'[{name}] done in {time.perf_counter() - t0:.0f} s; '
              f'wrote {args.out}')
    if not todo:
        save()
    return results


if __name__ == '__main__':
    main()
