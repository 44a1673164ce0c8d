"""One training-step measurement (section 2), run in its own process by
:func:`benchmarks.train.run_train`."""
import os
import time
from contextlib import nullcontext
from typing import Callable, List

from .common import (_episode, _import_package, build_model, peak_rss_bytes,
                     recognizer_cfg, release_free_memory, reset_peak_rss,
                     rss_bytes)
from .train_variants import TRAIN_VARIANTS


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
    method = opts.pop('method')
    sdpa = opts.pop('sdpa', 'default')
    text_cache = opts.pop('text_cache', True)
    frozen_grads = opts.pop('frozen_grads', False)
    release_text = opts.pop('release_text', False)
    torch.set_num_threads(opts.pop('threads', 1))
    torch.manual_seed(0)
    model = build_model(
        recognizer_cfg(
            method, arch, num_frames=num_frames, text_cache=text_cache,
            **opts))
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
