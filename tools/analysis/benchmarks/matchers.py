"""Section 4: time of the matchers against MA-FSAR's whole forward pass
on one episode."""
import time
from typing import Callable

from .common import (_episode, _import_package, build_model, clip_dims, median,
                     recognizer_cfg)


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
    model = build_model(
        recognizer_cfg('mafsar', episode_arch, num_frames=num_frames))
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
