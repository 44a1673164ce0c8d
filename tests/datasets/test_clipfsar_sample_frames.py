"""CLIPFSARSampleFrames draws CLIP-FSAR's frame indices
(github.com/alibaba-mmai-research/CLIP-FSAR @ 30cf0a8,
datasets/base/base_dataset.py L493-530)."""
import os.path as osp
import random

import pytest
import torch
from mmaction.registry import DATASETS, TRANSFORMS
from mmengine.config import Config

import mafsar_mm  # noqa: F401

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'configs')


def sample(num_frames, fps=30.0, **kwargs):
    t = TRANSFORMS.build(dict(type='CLIPFSARSampleFrames', **kwargs))
    out = t(dict(total_frames=num_frames, start_index=0, avg_fps=fps))
    assert out['clip_len'] == t.clip_len and out['num_clips'] == 1
    return out['frame_inds']


def official_segment(vid_length, num_frames=8):
    """base_dataset.py L505-509 (SAMPLING_RATE > 40)."""
    interval = vid_length // num_frames
    return [
        random.randint(ind * interval, ind * interval + interval - 1)
        for ind in range(num_frames)
    ]


def official_window(vid_length, vid_fps, interval, target_fps=12,
                    num_frames=8, clip_idx=-1):
    """base_dataset.py L510-528 (SAMPLING_RATE <= 40, num_clips 1)."""
    clip_length = num_frames * interval * vid_fps / target_fps
    if clip_length > vid_length:
        clip_length = vid_length // num_frames * num_frames
    max_idx = max(vid_length - clip_length + 1, 0)
    if clip_idx == -1:
        start_idx = random.uniform(0, max_idx)
    else:
        start_idx = max_idx / 2
    end_idx = start_idx + clip_length - interval
    index = torch.linspace(start_idx, end_idx, num_frames)
    return torch.clamp(index, 0, vid_length - 1).long().tolist()


@pytest.mark.parametrize('length', [8, 57, 103, 250])
def test_segment_mode_is_the_official_draw(length):
    for seed in range(5):
        random.seed(seed)
        ours = sample(length, sampling_rate=50)
        random.seed(seed)
        assert ours.tolist() == official_segment(length)
    seg = length // 8
    centre = sample(length, sampling_rate=50, test_mode=True)
    assert centre.tolist() == [i * seg + (seg - 1) // 2 for i in range(8)]


@pytest.mark.parametrize('length, fps', [(300, 30.0), (250, 25.0),
                                         (2000, 30.0), (60, 12.0)])
def test_window_mode_is_the_official_draw(length, fps):
    for seed in range(5):
        random.seed(seed)
        ours = sample(length, fps=fps, sampling_rate=35)
        random.seed(seed)
        assert ours.tolist() == official_window(length, fps, 35)
    # the test list: clip_idx 0, a centred window (L256-257, L521-522)
    assert sample(length, fps=fps, sampling_rate=35,
                  test_mode=True).tolist() == official_window(
                      length, fps, 35, clip_idx=0)


def test_short_video_and_bad_arguments():
    # fewer frames than clip_len: the reference fails; we spread evenly
    assert sample(5, sampling_rate=50).tolist() == [0, 0, 1, 1, 2, 2, 3, 4]
    with pytest.raises(ValueError, match='clip_len must be >= 2'):
        TRANSFORMS.build(dict(type='CLIPFSARSampleFrames', clip_len=1))


def test_benchmark_pipeline_decodes_a_video(video_split):
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'datasets', 'fewshot_video_224.py'))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.update(video_split, data_prefix=dict(video=''), n_way=2,
                  k_shot=1, n_query=1, num_episodes=2)
    dataset = DATASETS.build(ds_cfg)
    item = dataset[0]
    assert tuple(item['inputs'].shape) == (4, 3, 8, 224, 224)
    assert item['inputs'].dtype == torch.uint8
