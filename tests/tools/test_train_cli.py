"""tools/train.py options: --amp, --auto-scale-lr, --no-validate."""
import importlib.util
import os.path as osp
import sys

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = osp.join(REPO, 'configs', 'mafsar',
                      'mafsar_vit-tiny_5w1s_synthetic.py')


@pytest.fixture(scope='module')
def train_tool():
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(REPO, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=1)


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
