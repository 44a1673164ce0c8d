"""tools/train.py options: --amp, --auto-scale-lr, --no-validate,
--clip-weights, --tensorboard."""
import os.path as osp
import sys

import pytest
import torch
from conftest import load_tool
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.config import Config


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = osp.join(REPO, 'configs', 'mafsar',
                      'mafsar_vit-tiny_5w1s_synthetic.py')


@pytest.fixture(scope='module')
def train_tool():
    return load_tool('tools/train.py')


def _merged(train_tool, monkeypatch, *options):
    monkeypatch.setattr(sys, 'argv', ['train.py', QUICKSTART, *options])
    return train_tool.merge_args(
        Config.fromfile(QUICKSTART), train_tool.parse_args())


def test_defaults_leave_the_config(train_tool, monkeypatch):
    cfg = _merged(train_tool, monkeypatch)
    assert cfg.optim_wrapper.get('type', 'OptimWrapper') == 'OptimWrapper'
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=1)


def test_amp_and_auto_scale_lr(train_tool, monkeypatch):
    cfg = _merged(train_tool, monkeypatch, '--amp', '--auto-scale-lr')
    # no GPU here: bfloat16 autocast (MMEngine's AmpOptimWrapper asserts
    # a GPU and ended the run in an AssertionError)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=1)
    gpu = dict(Config.fromfile(QUICKSTART).optim_wrapper)
    assert train_tool.use_amp(gpu, device='cuda') == 'AmpOptimWrapper'
    assert gpu['loss_scale'] == 'dynamic'
    with pytest.raises(ValueError, match="wrapper 'OtherWrapper' of the"):
        train_tool.use_amp(dict(type='OtherWrapper'), device='cpu')


def test_cpu_amp_optim_wrapper_trains_in_bfloat16():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='CPUAmpOptimWrapper',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().pow(2).mean())
    assert model.weight.dtype == torch.float32  # master weights stay fp32
    assert not torch.equal(model.weight, before)
    with wrapper.optim_context(model):
        pass
    assert model(torch.randn(1, 4)).dtype == torch.float32  # only inside


def test_clip_weights_and_tensorboard_options(train_tool, monkeypatch,
                                              tmp_path):
    weights = tmp_path / 'clip.pt'
    weights.write_bytes(b'\x80\x02}q\x00.')
    cfg = _merged(train_tool, monkeypatch, '--clip-weights', str(weights),
                  '--tensorboard')
    assert cfg.model.backbone.clip.pretrained == str(weights)
    assert cfg.model.text_encoder.clip.pretrained == str(weights)
    assert [b['type'] for b in cfg.visualizer.vis_backends
            ] == ['LocalVisBackend', 'TensorboardVisBackend']
    # the top-level key of --cfg-options reaches both model copies
    cfg = _merged(train_tool, monkeypatch, '--cfg-options',
                  'clip.pretrained=None')
    assert cfg.model.backbone.clip.pretrained is None
    assert cfg.model.text_encoder.clip.pretrained is None


def test_auto_scale_lr_needs_a_base_batch_size(train_tool, monkeypatch):
    monkeypatch.setattr(sys, 'argv',
                        ['train.py', QUICKSTART, '--auto-'
                         'scale-lr'])
    cfg = Config.fromfile(QUICKSTART)
    cfg.auto_scale_lr = dict(enable=False)
    with pytest.raises(ValueError, match='base_batch_size'):
        train_tool.merge_args(cfg, train_tool.parse_args())


def test_no_validate_with_val_dataloader_options(train_tool, monkeypatch):
    """``--no-validate`` is applied after ``--cfg-options``, so
    ``val_dataloader.*`` options do not meet a None (MMEngine's
    TypeError)."""
    cfg = _merged(train_tool, monkeypatch, '--no-validate', '--cfg-options',
                  'val_dataloader.num_workers=0')
    assert cfg.val_dataloader is None
    assert cfg.val_cfg is None and cfg.val_evaluator is None
