"""Head options that reproduce the official heads (CLIPFSARHead's
switches, FewShotHead's class-mean prototypes): how shots are combined,
the text-loss class set and averaging, the loss weight."""
import pytest
import torch
import torch.nn.functional as F

import mafsar_mm  # noqa: F401
from mafsar_mm.models.heads import CLIPFSARHead, FewShotHead
from mafsar_mm.models.heads.few_shot_head import merge_shots
from mafsar_mm.utils.errors import InputError

NECK = dict(
    type='MultimodalTransformer', in_channels=16, num_heads=2,
    ffn_channels=32)


def official_class_mean(feats, labels):
    """CLIP-FSAR's prototype: ``[torch.mean(torch.index_select(support, 0,
    extract_class_indices(labels, c)), dim=0) for c in unique_labels]``
    (models/base/few_shot.py L2809-2811)."""
    return torch.stack([
        feats[torch.nonzero(labels == c).flatten()].mean(0)
        for c in torch.unique(labels)
    ])


def episode(n=3, k=5, q=4, t=4, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    support = torch.randn(n * k, t, d, generator=g)
    query = torch.randn(q, t, d, generator=g)
    labels = torch.arange(n).repeat(k)  # interleaved shots
    text = torch.randn(n, d, generator=g)
    return support, labels, query, text


def test_merge_shots_is_the_official_class_mean():
    support, labels, _, _ = episode()
    expected = official_class_mean(support, labels)
    assert torch.allclose(merge_shots(support, labels, 3), expected)


def test_shot_merge_modes():
    support, labels, query, text = episode()
    torch.manual_seed(0)
    heads = {
        mode: CLIPFSARHead(
            matcher=dict(type='OTAMMatcher'), neck=NECK, shot_merge=mode)
        for mode in ('distance', 'after_neck', 'before_neck')
    }
    # FewShotHead's class-mean prototypes are the same computation
    plain = FewShotHead(
        matcher=dict(type='OTAMMatcher'), neck=NECK,
        shot_merge='after_neck').eval()
    plain.neck.load_state_dict(heads['distance'].neck.state_dict())
    state = heads['distance'].state_dict()
    for head in heads.values():
        head.load_state_dict(state)
        head.eval()
    neck, matcher = heads['distance'].neck, heads['distance'].matcher
    with torch.no_grad():
        out = {m: h(support, labels, query, text)['match']
               for m, h in heads.items()}
        s, qn = neck(support, query, support_text=text[labels])
        # distances to each shot, averaged (CNN_OTAM, few_shot.py L1437)
        assert torch.allclose(out['distance'], matcher(s, labels, qn))
        # features averaged after the neck (CLIP-FSAR L2957-2962)
        after = matcher(official_class_mean(s, labels), torch.arange(3), qn)
        assert torch.allclose(out['after_neck'], after, atol=1e-6)
        assert torch.equal(
            plain(support, labels, query, text)['match'], out['after_neck'])
        # MERGE_BEFORE: support and text averaged before it (L2949-2956)
        merged = official_class_mean(support, labels)
        s2, qn2 = neck(merged, query, support_text=text)
        before = matcher(s2, torch.arange(3), qn2)
        assert torch.allclose(out['before_neck'], before, atol=1e-6)
    # with 5 shots the three are different scores
    assert not torch.allclose(out['distance'], out['after_neck'])
    assert not torch.allclose(out['after_neck'], out['before_neck'])


def test_shot_merge_is_a_no_op_with_one_shot():
    support, labels, query, text = episode(k=1)
    torch.manual_seed(0)
    a = FewShotHead(matcher=dict(type='OTAMMatcher'), neck=NECK).eval()
    b = CLIPFSARHead(
        matcher=dict(type='OTAMMatcher'), neck=NECK, text_loss=None,
        shot_merge='before_neck').eval()
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        assert torch.allclose(a(support, labels, query, text)['match'],
                              b(support, labels, query, text)['match'],
                              atol=1e-6)


def official_text_loss(support, query, class_text, targets, scale=1.0):
    """``F.cross_entropy(cos_sim(cat([support, query]).mean(1),
    text_features_train) * scale, cat([real_support_labels,
    real_target_labels]))`` (few_shot.py L2783-2785 with the cosine
    computed exactly, train_net_few_shot.py L134)."""
    feats = torch.cat([support, query]).mean(1)
    cos = F.normalize(feats, dim=-1) @ F.normalize(class_text, dim=-1).t()
    return F.cross_entropy(cos * scale, targets)


def test_split_text_loss_is_clipfsar_loss():
    support, labels, query, text = episode(k=1, q=5)
    query_labels = torch.tensor([0, 1, 2, 0, 1])
    g = torch.Generator().manual_seed(1)
    split_text = torch.randn(7, 16, generator=g)  # 7 training classes
    split_targets = torch.tensor([4, 0, 6])  # the episode's classes
    w = 3.0  # USE_CLASSIFICATION_VALUE of SSv2
    head = CLIPFSARHead(
        matcher=dict(type='OTAMMatcher'),
        neck=None,
        text_loss=dict(type='CrossEntropyLoss', loss_weight=w),
        text_logit_scale=1.0,
        text_classes='split',
        text_loss_average='video')
    losses = head.loss(support, labels, query, query_labels, text,
                       split_text=split_text, split_targets=split_targets)
    targets = torch.cat([split_targets[labels], split_targets[query_labels]])
    expected_text = official_text_loss(support, query, split_text, targets)
    match = head.matcher(support, labels, query)
    expected_match = F.cross_entropy(match, query_labels)
    # CE(OTAM) + w * CE(text) (train_net_few_shot.py L134)
    assert torch.allclose(losses['loss_q2s'], expected_match)
    assert torch.allclose(losses['loss_text'], w * expected_text)


def test_branch_average_and_episode_classes():
    support, labels, query, text = episode(k=1, q=5)
    query_labels = torch.tensor([0, 1, 2, 0, 1])
    head = FewShotHead(
        matcher=dict(type='OTAMMatcher'), alpha=0.5,
        text_loss=dict(type='CrossEntropyLoss'), text_logit_scale=1.0)
    out = head(support, labels, query, text)
    losses = head.loss(support, labels, query, query_labels, text)
    expected = (F.cross_entropy(out['s2t'], labels) +
                F.cross_entropy(out['q2t'], query_labels)) / 2
    assert torch.allclose(losses['loss_text'], 0.5 * expected)
    video = CLIPFSARHead(
        matcher=dict(type='OTAMMatcher'), neck=None,
        text_loss=dict(type='CrossEntropyLoss', loss_weight=0.5),
        text_logit_scale=1.0, text_classes='episode',
        text_loss_average='video')
    losses = video.loss(support, labels, query, query_labels, text)
    expected = F.cross_entropy(
        torch.cat([out['s2t'], out['q2t']]),
        torch.cat([labels, query_labels]))
    assert torch.allclose(losses['loss_text'], 0.5 * expected)


def test_split_text_classes_need_the_split_text():
    support, labels, query, text = episode(k=1)
    head = CLIPFSARHead(
        matcher=dict(type='OTAMMatcher'), neck=None, text_classes='split')
    with pytest.raises(ValueError, match="text_classes='split' needs"):
        head.loss(support, labels, query, torch.arange(3), text)


@pytest.mark.parametrize('head, kwargs, message', [
    (FewShotHead, dict(shot_merge='mean'), 'shot_merge must be one of'),
    (FewShotHead, dict(shot_merge='before_neck'),
     "'before_neck' is CLIP-FSAR's MERGE_BEFORE: type='CLIPFSARHead'"),
    (CLIPFSARHead, dict(shot_merge='mean'), 'shot_merge must be one of'),
    (CLIPFSARHead, dict(text_classes='all'), 'text_classes must be one of'),
    (CLIPFSARHead, dict(text_loss_average='mean'),
     'text_loss_average must be one of'),
    (CLIPFSARHead,
     dict(text_loss=dict(type='CrossEntropyLoss', loss_weight=0)),
     'text_loss loss_weight must be > 0'),
])
def test_bad_options(head, kwargs, message):
    with pytest.raises(ValueError, match=message):
        head(matcher=dict(type='OTAMMatcher'), **kwargs)


def test_clipfsar_head_has_no_loss_alpha():
    with pytest.raises(InputError, match='CLIPFSARHead has no loss alpha'):
        CLIPFSARHead(alpha=0.5)
