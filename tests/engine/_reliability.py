"""Shared helpers of the reliability tests: a very small MA-FSAR config on
the session's synthetic data, runnable by MMEngine's Runner in seconds."""
import os.path as osp
from typing import Optional

import open_clip
import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = osp.join(REPO, 'configs', 'mafsar',
                      'mafsar_vit-tiny_5w1s_synthetic.py')

#: open_clip.CLIP kwargs of a very small CLIP: 32x32 input, 2x2 patches
#: of 16 pixels, 2 visual blocks of width 32, 1 text block.
MICRO_CLIP_CFG = dict(
    embed_dim=32,
    vision_cfg=dict(
        image_size=32, layers=2, width=32, patch_size=16, head_width=16),
    text_cfg=dict(
        context_length=32, vocab_size=49408, width=32, heads=2, layers=1))

CLIP_LEN = 4


def save_micro_clip(path: str, seed: int = 0) -> str:
    """Save a randomly initialised micro CLIP as a local "pretrained"
    weights file (what ``clip.pretrained`` points at)."""
    torch.manual_seed(seed)
    torch.save(open_clip.CLIP(**MICRO_CLIP_CFG).state_dict(), path)
    return path


def _pipelines():
    common = [
        dict(type='DecordInit'),
        dict(type='UniformSample', clip_len=CLIP_LEN, num_clips=1),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
    ]
    train = [dict(t) for t in common]
    train.insert(3, dict(type='RandomResizedCrop', area_range=(0.6, 1.0)))
    test = [dict(t) for t in common]
    test[1]['test_mode'] = True
    return train, test


def micro_config(data_root: str,
                 work_dir: str,
                 pretrained: Optional[str] = None,
                 max_iters: int = 4,
                 checkpoint_interval: int = 2,
                 test_episodes: int = 6) -> Config:
    """The quickstart MA-FSAR config, shrunk: micro CLIP, 4 frames of
    32x32, 5-way 1-shot with 1 query, no validation, no workers.

    Args:
        data_root (str): Synthetic dataset root.
        work_dir (str): Work directory.
        pretrained (str, optional): Local CLIP weights file; None for a
            random CLIP. Defaults to None.
        max_iters (int): Training iterations. Defaults to 4.
        checkpoint_interval (int): Save every this many iterations.
            Defaults to 2.
        test_episodes (int): Test episodes. Defaults to 6.

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(QUICKSTART)
    clip = dict(model_cfg=MICRO_CLIP_CFG, pretrained=pretrained)
    cfg.model.backbone.clip = clip
    cfg.model.backbone.num_frames = CLIP_LEN
    cfg.model.text_encoder.clip = clip
    cfg.model.head.neck.update(in_channels=32, num_heads=2, ffn_channels=64)
    train_pipeline, test_pipeline = _pipelines()
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = data_root
        loader.dataset.min_frames = CLIP_LEN
        loader.dataset.pipeline = (
            train_pipeline if split == 'train' else test_pipeline)
    cfg.train_dataloader.dataset.n_query = 1
    cfg.test_dataloader.dataset.num_episodes = test_episodes
    cfg.val_cfg = None
    cfg.val_dataloader = None
    cfg.val_evaluator = None
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters + 1
    cfg.default_hooks.checkpoint.update(
        interval=checkpoint_interval, save_best=None, max_keep_ckpts=-1)
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0, deterministic=False)
    return cfg


def tunable_state(model: torch.nn.Module) -> dict:
    """Copies of the parameters with ``requires_grad``."""
    model = getattr(model, 'module', model)
    return {
        name: param.detach().clone()
        for name, param in model.named_parameters() if param.requires_grad
    }
