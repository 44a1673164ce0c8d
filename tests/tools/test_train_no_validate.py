"""``tools/train.py --no-validate`` together with val_dataloader options."""
import importlib.util
import os.path as osp
import sys

from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _train_module():
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_validate_with_val_dataloader_options(monkeypatch):
    train = _train_module()
    config = osp.join(ROOT, 'configs', 'mafsar_ssv2_5w1s.py')
    monkeypatch.setattr(sys, 'argv', [
        'train.py', config, '--no-validate', '--cfg-options',
        'val_dataloader.num_workers=0'
    ])
    args = train.parse_args()
    cfg = train.merge_args(Config.fromfile(config), args)
    assert cfg.val_dataloader is None
    assert cfg.val_cfg is None and cfg.val_evaluator is None
