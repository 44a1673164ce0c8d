"""The recognizer feeds the text of every training class to a head whose
text loss runs over them (CLIP-FSAR's class_logits)."""
import pytest
import torch
import torch.nn.functional as F
from conftest import small_config
from mmaction.registry import DATASETS, MODELS

import mafsar_mm  # noqa: F401


@pytest.fixture(scope='module')
def setup(synthetic_root):
    cfg = small_config(synthetic_root)
    cfg.model.head.pop('alpha')
    cfg.model.head.update(
        type='CLIPFSARHead', text_classes='split', text_loss_average='video')
    cfg.model.head.text_loss = dict(type='CrossEntropyLoss', loss_weight=0.5)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    item = dataset[7]
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    return dataset, item, model


def test_episodes_carry_the_class_names_of_their_split(setup):
    dataset, item, _ = setup
    sample = item['data_samples']
    names = sample.metainfo['split_class_names']
    assert names == list(dataset.metainfo['classes'])
    assert len(names) == len(dataset.split_labels)
    assert set(sample.class_names) <= set(names)


def test_text_loss_over_the_training_classes(setup):
    _, item, model = setup
    data = model.data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]))
    inputs, sample = data['inputs'][0], data['data_samples'][0]
    with torch.no_grad():
        losses = model.loss(inputs[None], [sample])
        feats = model.extract_feat(inputs, sample)
        names = sample.metainfo['split_class_names']
        split_text = model.encode_text(names)  # [C, D']
        targets = torch.tensor([names.index(n) for n in sample.class_names])
        videos = torch.cat([feats['support'], feats['query']]).mean(1)
        scale = model.head.log_text_scale.exp()
        logits = scale * F.normalize(videos, dim=-1) @ F.normalize(
            split_text, dim=-1).t()
        labels = torch.cat([
            targets[feats['support_labels']], targets[sample.query_labels]
        ])
        weight = model.head.text_loss.loss_weight
        expected = weight * F.cross_entropy(logits, labels)
    assert logits.shape[1] == len(names) > 5
    assert torch.allclose(losses['loss_text'], expected, atol=1e-6)


def test_missing_split_names_is_one_clear_error(setup):
    _, item, model = setup
    data = model.data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]))
    sample = data['data_samples'][0].clone()
    sample.set_metainfo(dict(split_class_names=None))
    with pytest.raises(ValueError, match='split_class_names'):
        model.loss(data['inputs'], [sample])
