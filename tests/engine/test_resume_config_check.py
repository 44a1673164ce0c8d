"""Issue 23 item 16: ``--resume`` with a config whose model or episode
settings differ from the checkpoint's warns once, listing the
differences; an identical config and the keys that may differ (work dir,
loader workers, the loop's length, logging) do not warn."""
import logging

from _reliability import micro_config
from mmengine.logging import MMLogger
from mmengine.runner import Runner

import mafsar_mm  # noqa: F401
from mafsar_mm.engine import find_resume_checkpoint
from mafsar_mm.utils.config_diff import (
    config_differences, describe_differences, parse_config_text)

PREFIX = "resuming with a config that differs from the checkpoint's: "


def test_stored_config_reads_back_without_differences(tmp_path):
    cfg = micro_config(str(tmp_path), str(tmp_path / 'work'))
    stored = parse_config_text(cfg.pretty_text)
    assert stored['model'] == cfg.to_dict()['model']
    assert config_differences(stored, cfg.to_dict()) == []


def test_stored_config_is_never_executed(tmp_path):
    flag = tmp_path / 'ran'
    text = (f"import os\nx = os.system('touch {flag}')\n"
            f"y = open('{flag}', 'w')\nmodel = dict(a=-1, b=(1, 2.5), "
            "c=[None, True], d={'k': 'v'})\n")
    assert parse_config_text(text) == dict(
        model=dict(a=-1, b=(1, 2.5), c=[None, True], d={'k': 'v'}))
    assert not flag.exists()


def test_differences_listed_old_to_new():
    old = dict(
        model=dict(head=dict(alpha=0.5)),
        train_dataloader=dict(num_workers=2, dataset=dict(n_way=5)),
        train_cfg=dict(max_iters=4, type='EpisodicTrainLoop'),
        work_dir='a')
    new = dict(
        model=dict(head=dict(alpha=0.3, extra=1)),
        train_dataloader=dict(num_workers=0, dataset=dict(n_way=3)),
        train_cfg=dict(max_iters=8, type='EpisodicTrainLoop'),
        work_dir='b')
    assert describe_differences(config_differences(old, new)) == (
        'model.head.alpha 0.5 -> 0.3, model.head.extra <absent> -> 1, '
        'train_dataloader.dataset.n_way 5 -> 3')


class _Capture(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _resume(cfg, name):
    cfg = cfg.copy()
    cfg.experiment_name = name
    cfg.resume = True
    cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    runner = Runner.from_cfg(cfg)
    capture = _Capture()
    MMLogger.get_current_instance().addHandler(capture)
    try:
        runner.train()
    finally:
        MMLogger.get_current_instance().removeHandler(capture)
    return [line for line in capture.lines if line.startswith(PREFIX)]


def test_resume_with_another_config_warns_once(synthetic_root, tmp_path):
    work = str(tmp_path / 'work')
    cfg = micro_config(synthetic_root, work, max_iters=2)
    cfg.experiment_name = 'resume_cfg_first'
    Runner.from_cfg(cfg).train()
    same = cfg.copy()
    same.train_cfg.max_iters = 3  # training longer: no warning
    same.train_dataloader.num_workers = 0
    assert _resume(same, 'resume_cfg_same') == []
    other = cfg.copy()
    other.train_cfg.max_iters = 4
    other.model.head.alpha = 0.3
    other.train_dataloader.dataset.n_way = 3
    assert _resume(other, 'resume_cfg_other') == [
        PREFIX + 'model.head.alpha 0.5 -> 0.3, '
        'train_dataloader.dataset.n_way 5 -> 3'
    ]
