"""Shared fixtures: tiny real videos written with OpenCV, a tiny CLIP,
and loading or running the scripts under ``tools/``."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny random CLIP (``TINY_CLIP_CFG``, seed 0) and its weights
    file, for the tests that build towers from ``pretrained=<file>``."""
    import torch

    from mafsar_mm.models.clip import TINY_CLIP_CFG, build_open_clip
    torch.manual_seed(0)
    clip = build_open_clip(model_cfg=TINY_CLIP_CFG)
    path = str(tmp_path_factory.mktemp('clip') / 'tiny_clip.pt')
    torch.save(clip.state_dict(), path)
    return clip, path


def write_video(path: str, num_frames: int = 10, size: int = 32,
                seed: int = 0) -> None:
    """Write a small mp4 (mp4v) that decord can read."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 8,
                             (size, size))
    base = rng.integers(0, 255, size=3)
    for t in range(num_frames):
        frame = np.full((size, size, 3), base, dtype=np.uint8)
        x = int(t * (size - 8) / max(num_frames - 1, 1))
        frame[10:18, x:x + 8] = 255
        writer.write(frame)
    writer.release()


def make_video_split(root: str, videos_per_class, num_frames: int = 10,
                     names=None) -> dict:
    """Write ``classes.txt`` and ``split.txt`` with tiny videos.

    Args:
        root (str): Output directory.
        videos_per_class (list[int]): Videos to write for each class.
        num_frames (int): Frames per video.
        names (list[str], optional): Class names.

    Returns:
        dict: ``ann_file``, ``class_name_file`` and ``data_root``.
    """
    names = names or [f'class {i}' for i in range(len(videos_per_class))]
    lines = []
    for label, count in enumerate(videos_per_class):
        for j in range(count):
            rel = f'c{label}_v{j}.mp4'
            write_video(
                osp.join(root, rel), num_frames, seed=label * 100 + j)
            lines.append(f'{rel} {label}')
    with open(osp.join(root, 'classes.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    with open(osp.join(root, 'split.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return dict(
        ann_file='split.txt', class_name_file='classes.txt', data_root=root)


TEST_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=4, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
]

TRAIN_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
]


@pytest.fixture(scope='session')
def video_split(tmp_path_factory) -> dict:
    """Eight classes with 3 to 6 videos each."""
    root = str(tmp_path_factory.mktemp('videos'))
    return make_video_split(root, [6, 6, 5, 5, 4, 4, 3, 3])


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> str:
    """A small synthetic temporal dataset (40 classes, 4 videos each)."""
    from mafsar_mm.datasets.synthetic import make_synthetic_dataset
    root = str(tmp_path_factory.mktemp('synthetic'))
    make_synthetic_dataset(
        root, videos_per_class=4, num_frames=8, size=64, seed=0, workers=1)
    return root


QUICKSTART_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'mafsar',
    'mafsar_vit-tiny_5w1s_synthetic.py')


REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(script: str, name: str = None):
    """Import a script of the repository (not a package module) by path.

    Args:
        script (str): Path from the repository root, e.g.
            ``'tools/analysis/count_params.py'``, or an absolute path.
        name (str, optional): The module's name. Defaults to the file's
            stem with a ``_tool`` suffix.

    Returns:
        module: A fresh module (each call runs the script's top level).
    """
    path = osp.join(REPO, script)
    name = name or osp.splitext(osp.basename(path))[0] + '_tool'
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(script: str, *args: str,
             cwd: str = None) -> subprocess.CompletedProcess:
    """Run ``python <repository>/<script> <args>`` with this checkout
    importable, capturing stdout and stderr as text."""
    repo = REPO
    env = dict(
        os.environ,
        PYTHONPATH=repo + os.pathsep + os.environ.get('PYTHONPATH', ''))
    return subprocess.run([sys.executable,
                           osp.join(repo, script), *args],
                          capture_output=True,
                          text=True,
                          env=env,
                          cwd=cwd,
                          timeout=600)


def small_config(data_root: str, config: str = QUICKSTART_CONFIG,
                 work_dir: str = None):
    """A config on ``data_root`` with small, fast settings."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = data_root
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_dataloader.dataset.n_query = 1
    # random CLIP weights: tests do not need tools/pretrain_tiny_clip.py
    for part in ('backbone', 'text_encoder'):
        if 'clip' in cfg.model.get(part, {}):
            cfg.model[part].clip.pretrained = None
    cfg.val_dataloader.dataset.num_episodes = 6
    cfg.test_dataloader.dataset.num_episodes = 6
    if work_dir is not None:
        cfg.work_dir = work_dir
    return cfg
