import pytest
import torch
from torch import nn

from mafsar_mm.models.adapters import Adapter


def test_zero_init_is_identity_or_zero():
    x = torch.randn(2, 5, 16)
    skip = Adapter(16, skip_connect=True)
    no_skip = Adapter(16, skip_connect=False)
    assert torch.equal(skip(x), x)
    assert torch.equal(no_skip(x), torch.zeros_like(x))
    assert skip.hidden_channels == 4
    assert skip.fc1.out_features == 4 and skip.fc2.in_features == 4


def test_init_weights_keeps_zero_init_and_non_zero_init():
    adapter = Adapter(16, mlp_ratio=0.5, skip_connect=False)
    with torch.no_grad():
        adapter.fc2.weight.fill_(1.0)
    adapter.init_weights()
    assert adapter.fc2.weight.abs().sum() == 0
    free = Adapter(16, zero_init=False, skip_connect=False)
    assert free(torch.randn(3, 16)).abs().sum() > 0


def test_parameter_count_and_bad_ratio():
    adapter = Adapter(768)
    # 768*192+192 + 192*768+768
    assert sum(p.numel() for p in adapter.parameters()) == 295872
    with pytest.raises(ValueError):
        Adapter(4, mlp_ratio=0.1)


def test_forward_projected_folds_the_linear():
    torch.manual_seed(0)
    adapter = Adapter(16, skip_connect=False, zero_init=False)
    proj = nn.Linear(24, 16)
    x = torch.randn(2, 5, 24)
    ref = adapter(proj(x))
    assert torch.allclose(
        adapter.forward_projected(x, proj.weight, proj.bias), ref, atol=1e-6)
    no_bias = adapter.forward_projected(x, proj.weight)
    assert torch.allclose(no_bias, adapter(x @ proj.weight.t()), atol=1e-6)
    with pytest.raises(ValueError, match='skip'):
        Adapter(16).forward_projected(x, proj.weight)
