"""Section 5: videos per second through the training pipelines against
the model's training rate."""
import time
from typing import Callable, Optional, Sequence

from .common import (DATA_224_CONFIG, QUICKSTART_CONFIG, _episode,
                     _import_package, median, random_weights)


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
    model = MODELS.build(random_weights(cfg.model.to_dict())).train()
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
