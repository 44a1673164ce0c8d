"""FewShotInferencer as an MMEngine BaseInferencer: the support set is
encoded once, queries are the inputs; one clip loader and one
normalisation shared with the dataset."""
import pytest
import torch
from conftest import small_config
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from mmengine.infer import BaseInferencer
from random_checkpoint import save_random_checkpoint

import mafsar_mm  # noqa: F401
from mafsar_mm.apis import FewShotInferencer, format_ranking
from mafsar_mm.datasets.video_loading import ClipLoader


@pytest.fixture(scope='module')
def setup(synthetic_root, tmp_path_factory):
    """A config, its random checkpoint, a 3-way 2-shot test split and the
    support set and queries of its episode 0."""
    cfg = small_config(synthetic_root)
    ckpt = str(tmp_path_factory.mktemp('steps') / 'model.pth')
    save_random_checkpoint(cfg, ckpt)
    cfg.test_dataloader.dataset.update(k_shot=2, n_query=2, n_way=3)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    plan = dataset.episode_plan(0)
    names = [dataset.all_class_names[c] for c in plan['labels']]
    support = {n: v[:2] for n, v in zip(names, plan['videos'])}
    queries = [p for v in plan['videos'] for p in v[2:]]
    inferencer = FewShotInferencer(cfg, ckpt, support=support)
    return dict(cfg=cfg, ckpt=ckpt, dataset=dataset, support=support,
                queries=queries, inferencer=inferencer)


def _scores(results, names):
    return torch.tensor([[dict(r['ranking'])[n] for n in names]
                         for r in results['predictions']])


def test_is_a_base_inferencer_and_returns_a_dict(setup):
    inferencer = setup['inferencer']
    assert isinstance(inferencer, BaseInferencer)
    assert isinstance(inferencer.pipeline, ClipLoader)
    results = inferencer(setup['queries'])
    assert set(results) == {'predictions', 'visualization'}
    assert results['visualization'] is None
    assert [r['query'] for r in results['predictions']] == setup['queries']


def test_support_given_once_equals_support_per_call(setup):
    inferencer, support = setup['inferencer'], setup['support']
    names = list(support)
    once = _scores(inferencer(setup['queries']), names)
    per_call = _scores(inferencer(support, setup['queries']), names)
    torch.testing.assert_close(once, per_call, rtol=0, atol=0)
    # set_support replaces it; later calls keep the new one
    inferencer.set_support(zero_shot_classes=names[:2])
    assert inferencer.class_names == names[:2]
    assert len(inferencer(setup['queries'][:1])['predictions'][0][
        'ranking']) == 2
    inferencer.set_support(support)
    torch.testing.assert_close(
        _scores(inferencer(setup['queries']), names), once, rtol=0, atol=0)


def test_text_and_support_encoded_once_per_support_set(setup, monkeypatch):
    inferencer, support = setup['inferencer'], setup['support']
    model = inferencer.model
    calls = dict(text=0, videos=0)
    encode_text, encode_videos = model.encode_text, model.encode_videos

    def count_text(names):
        calls['text'] += 1
        return encode_text(names)

    def count_videos(imgs, *args, **kwargs):
        calls['videos'] += 1
        return encode_videos(imgs, *args, **kwargs)

    monkeypatch.setattr(model, 'encode_text', count_text)
    monkeypatch.setattr(model, 'encode_videos', count_videos)
    inferencer.batch_size = 4
    try:
        inferencer.set_support(support)  # 6 videos: 2 batches of 4
        assert calls == dict(text=1, videos=2)
        for _ in range(2):  # 6 queries: 2 batches, no text, no support
            inferencer(setup['queries'])
        assert calls == dict(text=1, videos=2 + 2 * 2)
    finally:
        inferencer.batch_size = 8


def test_query_batches_do_not_change_the_scores(setup):
    inferencer, names = setup['inferencer'], list(setup['support'])
    whole = _scores(inferencer(setup['queries'], batch_size=8), names)
    single = _scores(inferencer(setup['queries'], batch_size=1), names)
    torch.testing.assert_close(single, whole, rtol=0, atol=1e-6)


def test_no_support_set_is_refused(setup):
    inferencer = FewShotInferencer(setup['cfg'], setup['ckpt'])
    with pytest.raises(ValueError, match=r'^No support set: give one to '):
        inferencer(setup['queries'])


def test_visualize_and_datasamples(setup):
    inferencer = setup['inferencer']
    results = inferencer(setup['queries'][:2], return_vis=True, topk=2)
    texts = results['visualization']
    assert texts == [format_ranking(r, 2) for r in results['predictions']]
    first = results['predictions'][0]
    name, score = first['ranking'][0]
    assert texts[0].splitlines() == [
        f'{first["query"]}:', f'  1. {name}  {score:.4f}',
        f'  2. {first["ranking"][1][0]}  {first["ranking"][1][1]:.4f}'
    ]
    with pytest.raises(ValueError, match='topk must be >= 1'):
        inferencer(setup['queries'][:1], return_vis=True, topk=0)
    samples = inferencer(
        setup['queries'][:2], return_datasamples=True)['predictions']
    assert all(isinstance(s, ActionDataSample) for s in samples)
    names = samples[0].metainfo['classes']
    for sample, result in zip(samples, results['predictions']):
        assert sample.query == result['query']
        got = dict(zip(names, sample.pred_scores.item.tolist()))
        for cls, value in result['ranking']:
            assert got[cls] == pytest.approx(value, abs=1e-6)
        assert names[int(sample.pred_labels.item)] == result['pred_class']


def test_one_loader_and_one_normalisation(setup):
    inferencer, dataset = setup['inferencer'], setup['dataset']
    assert isinstance(dataset.loader, ClipLoader)
    path = setup['queries'][0]
    clip = inferencer.load_clip(path)
    assert clip.dtype == torch.uint8 and clip.dim() == 4
    assert torch.equal(clip, dataset.load_video(path, seed=0))
    preprocessor = inferencer.model.data_preprocessor
    mean = torch.tensor([122.771, 116.746, 104.094]).view(3, 1, 1, 1)
    std = torch.tensor([68.501, 66.632, 70.323]).view(3, 1, 1, 1)
    expected = (clip.float() - mean) / std
    assert torch.equal(preprocessor.normalize(clip), expected)
    episode = torch.stack([clip, clip])  # [V, C, T, H, W]
    batch = preprocessor(dict(inputs=[episode]), False)['inputs']
    assert batch.shape == (1, 2) + clip.shape
    assert torch.equal(batch[0, 1], expected)
    with pytest.raises(ValueError, match=r'\[\.\.\., C, T, H, W\]'):
        preprocessor.normalize(clip[0, 0])
