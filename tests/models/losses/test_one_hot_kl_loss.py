"""OneHotKLLoss: ActionCLIP's KL to a sharpened one-hot target."""
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

import mafsar_mm  # noqa: F401


def test_zero_for_the_target_itself_and_positive_otherwise():
    loss = MODELS.build(dict(type='OneHotKLLoss'))
    labels = torch.tensor([0, 2, 1])
    logits = 10.0 * F.one_hot(labels, 3).float()
    assert loss(logits, labels).abs() < 1e-6
    assert loss(-logits, labels) > 1.0


def test_is_the_kl_divergence_to_the_sharpened_target():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 4, generator=g)
    labels = torch.tensor([0, 3, 1, 2, 2, 0])
    target = F.softmax(5.0 * F.one_hot(labels, 4).float(), dim=1)
    logp = F.log_softmax(logits, dim=1)
    expected = (target * (target.log() - logp)).sum(1).mean()
    loss = MODELS.build(
        dict(type='OneHotKLLoss', target_scale=5.0, loss_weight=2.0))
    assert torch.allclose(loss(logits, labels), 2.0 * expected, atol=1e-6)
