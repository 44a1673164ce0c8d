"""One prediction path: the recognizer's ``predict``, the feature cache
of the evaluation loops and the inferencer give the same scores, with
support videos (fused) and without them (text-only, zero-shot)."""
import pytest
import torch
import torch.nn.functional as F
from conftest import small_config
from mmaction.registry import DATASETS
from random_checkpoint import save_random_checkpoint

import mafsar_mm  # noqa: F401
from mafsar_mm.apis import FewShotInferencer
from mafsar_mm.engine import EpisodeFeatureCache


@pytest.fixture(scope='module')
def setup(synthetic_root, tmp_path_factory):
    """A fused and a text-mode inferencer on one random checkpoint, and
    the test split (3-way 2-shot)."""
    cfg = small_config(synthetic_root)
    ckpt = str(tmp_path_factory.mktemp('path') / 'model.pth')
    save_random_checkpoint(cfg, ckpt)
    fused = FewShotInferencer(cfg, ckpt)
    text_cfg = cfg.copy()
    text_cfg.model.head.predict_mode = 'text'
    text = FewShotInferencer(text_cfg, ckpt)
    cfg.test_dataloader.dataset.update(
        k_shot=2, n_query=1, n_way=3, num_episodes=3)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return dict(fused=fused, text=text, dataset=dataset)


def _plain(model, dataset, episode_id, inputs=None):
    """``model.predict`` on the episode (optionally other clips)."""
    item = dataset[episode_id]
    clips = item['inputs'] if inputs is None else inputs
    data = model.data_preprocessor(
        dict(inputs=[clips], data_samples=[item['data_samples']]), False)
    with torch.no_grad():
        return model.predict(data['inputs'], data['data_samples'])[0]


def _inferencer_scores(inferencer, dataset, episode_id, zero_shot=False):
    """Scores ``[Q, N]`` of the inferencer on the episode's videos."""
    plan = dataset.episode_plan(episode_id)
    names = [dataset.all_class_names[c] for c in plan['labels']]
    k = dataset.k_shot
    queries = [p for v in plan['videos'] for p in v[k:]]
    if zero_shot:
        results = inferencer(
            None, queries, zero_shot_classes=names)['predictions']
    else:
        support = {n: v[:k] for n, v in zip(names, plan['videos'])}
        results = inferencer(support, queries)['predictions']
    return torch.stack([
        torch.tensor([dict(r['ranking'])[n] for n in names]) for r in results
    ])


@pytest.mark.parametrize('mode', ['fused', 'text'])
def test_three_callers_give_the_same_scores(setup, mode):
    inferencer, dataset = setup[mode], setup['dataset']
    model = inferencer.model
    assert model.head.predict_mode == mode
    cache = EpisodeFeatureCache(model, dataset, batch_size=8).build()
    # the text mode encodes no support branch at all
    per_video = 2 if mode == 'fused' else 1
    assert cache.encoder_passes == per_video * len(dataset.video_list())
    for episode_id in range(3):
        plain = _plain(model, dataset, episode_id).pred_scores
        cached = cache.predict_episode(episode_id).pred_scores
        inferred = _inferencer_scores(inferencer, dataset, episode_id)
        # the plain path encodes all supports in one batch, the others in
        # batches of 8: equal up to float rounding of the batch size
        torch.testing.assert_close(cached, plain, rtol=0, atol=1e-6)
        torch.testing.assert_close(inferred, plain, rtol=0, atol=1e-6)
        assert torch.equal(cached.argmax(1), plain.argmax(1))


def test_text_only_is_the_text_branch_of_the_fused_path(setup):
    model, dataset = setup['fused'].model, setup['dataset']
    item = dataset[0]
    data = model.data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]),
        False)
    sample = data['data_samples'][0]
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'][0], sample)
        outputs = model.head(feats['support'], feats['support_labels'],
                             feats['query'], feats['text'])
        text_only = model.predict_by_feat(
            None, None, feats['query'], sample.class_names, mode='text')
    assert model.head.predict_alpha > 0  # the fused path has this branch
    torch.testing.assert_close(
        text_only, F.softmax(outputs['q2t'], dim=1), rtol=0, atol=0)
    # and the text-mode model (same weights) predicts exactly that
    text_model = setup['text'].model
    plain = _plain(text_model, dataset, 0)
    torch.testing.assert_close(plain.pred_scores, text_only, rtol=0, atol=0)


def test_text_only_ignores_the_support_videos(setup):
    model, dataset = setup['text'].model, setup['dataset']
    item = dataset[1]
    scores = _plain(model, dataset, 1).pred_scores
    other = item['inputs'].clone()
    num_support = item['data_samples'].num_support
    other[:num_support] = torch.randint_like(other[:num_support], 0, 256)
    changed = _plain(model, dataset, 1, inputs=other).pred_scores
    assert torch.equal(scores, changed)
    # the fused model's scores do depend on the supports
    fused = setup['fused'].model
    assert not torch.allclose(
        _plain(fused, dataset, 1).pred_scores,
        _plain(fused, dataset, 1, inputs=other).pred_scores)


def test_zero_shot_inferencer_equals_text_mode_test_loop(setup):
    text, dataset = setup['text'], setup['dataset']
    cache = EpisodeFeatureCache(text.model, dataset).build()
    for episode_id in range(3):
        cached = cache.predict_episode(episode_id).pred_scores
        # the fused model asked for text-only scores per call
        zero_shot = _inferencer_scores(
            setup['fused'], dataset, episode_id, zero_shot=True)
        torch.testing.assert_close(zero_shot, cached, rtol=0, atol=1e-6)


def test_zero_shot_from_classes_without_videos(setup):
    inferencer, dataset = setup['fused'], setup['dataset']
    plan = dataset.episode_plan(0)
    names = [dataset.all_class_names[c] for c in plan['labels']]
    query = plan['videos'][0][-1]
    by_list = inferencer(None, [query], zero_shot_classes=names)
    by_dict = inferencer({n: [] for n in names}, [query])
    assert by_list == by_dict
    ranking = by_list['predictions'][0]['ranking']
    assert sorted(n for n, _ in ranking) == sorted(names)
    with pytest.raises(ValueError, match='not both'):
        inferencer({names[0]: [query]}, [query], zero_shot_classes=names)
    with pytest.raises(ValueError, match='at least 2 classes'):
        inferencer(None, [query], zero_shot_classes=names[:1])
    with pytest.raises(ValueError, match='Support classes without any'):
        inferencer({names[0]: [query], names[1]: []}, [query])
