"""The cached evaluation path gives the plain path's predictions."""
import torch
from conftest import small_config
from mmaction.registry import DATASETS, MODELS

import mafsar_mm  # noqa: F401
from mafsar_mm.engine import EpisodeFeatureCache


def _model_and_dataset(root, **dataset_kwargs):
    cfg = small_config(root)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    # non-zero adapters, so support features really depend on the text
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    cfg.test_dataloader.dataset.update(dataset_kwargs)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return model, dataset


def test_cached_predictions_equal_plain_path(synthetic_root):
    model, dataset = _model_and_dataset(
        synthetic_root, k_shot=2, n_query=1, num_episodes=4)
    cache = EpisodeFeatureCache(model, dataset, batch_size=5).build()
    # each video encoded once per branch, whatever the episodes
    assert cache.encoder_passes == 2 * len(dataset.video_list())
    for episode_id in range(4):
        item = dataset[episode_id]
        data = model.data_preprocessor(
            dict(inputs=[item['inputs']],
                 data_samples=[item['data_samples']]), False)
        with torch.no_grad():
            plain = model.predict(data['inputs'], data['data_samples'])[0]
        cached = cache.predict_episode(episode_id)
        assert cached.video_ids == plain.video_ids
        assert torch.allclose(
            cached.pred_scores, plain.pred_scores, atol=1e-5)
        assert torch.equal(cached.pred_labels, plain.pred_labels)


def test_cache_refuses_a_training_split(synthetic_root):
    model, dataset = _model_and_dataset(synthetic_root, test_mode=False)
    try:
        EpisodeFeatureCache(model, dataset)
    except ValueError as e:
        assert 'deterministic test pipeline' in str(e)
    else:
        raise AssertionError('expected a ValueError')
