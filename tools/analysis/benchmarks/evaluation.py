"""Section 3: episodes per second of the plain test path and of the
per-video feature cache, with identical predictions."""
import time
from typing import Callable, Sequence

from .common import QUICKSTART_CONFIG, _import_package, random_weights


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
    model = MODELS.build(random_weights(cfg.model.to_dict())).eval()
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
