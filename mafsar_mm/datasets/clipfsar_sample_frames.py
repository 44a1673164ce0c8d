"""Frame indices drawn the way CLIP-FSAR's few-shot loader draws them.

Reference: github.com/alibaba-mmai-research/CLIP-FSAR @ 30cf0a8,
``datasets/base/base_dataset.py`` L493-530 (``_interval_based_sampling``,
which every few-shot yaml selects through ``SAMPLING_MODE:
interval_based``, ``configs/pool/run/training/finetune.yaml`` L34), with
``DATA.SAMPLING_RATE`` 50 on SSv2, UCF101 and HMDB51 and 35 on
Kinetics-100 (e.g. ``ssv2_small/CLIPFSAR_SSv2_Small_1shot_v1.yaml`` L44,
``kinetics100/CLIPFSAR_K100_1shot_v1.yaml`` L46). Written from the
formulas; the code is not copied.
"""
import random
from typing import Dict

import numpy as np
import torch
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class CLIPFSARSampleFrames(BaseTransform):
    """Sample ``clip_len`` frame indices as CLIP-FSAR does.

    * ``sampling_rate > 40`` (L505-509): the video is cut into
      ``clip_len`` segments of ``L // clip_len`` frames (the last
      ``L % clip_len`` frames are never used) and one frame is drawn
      uniformly in each segment;
    * otherwise (L510-528): a window of ``clip_len * sampling_rate * fps /
      target_fps`` frames (``L // clip_len * clip_len`` if the video is
      shorter) starts at ``uniform(0, L - window + 1)`` and ``clip_len``
      frames are taken at ``linspace(start, start + window -
      sampling_rate)``, truncated to integers.

    In evaluation (``test_mode=True``) the window is centred, as the
    reference does for its test list (``clip_idx`` 0 from
    ``_spatial_temporal_index``, L256-257 and ``datasets/base/
    ssv2_few_shot.py`` L140-169; ``start = max_idx / 2``, L521-522). The
    segment mode draws at random in the reference's evaluation too; here
    it takes the centre of each segment, so a video's frames do not
    depend on the episode and cached evaluation features stay valid.

    Required keys: ``total_frames``, ``start_index``, ``avg_fps`` (from
    ``DecordInit``; ``target_fps`` when absent). Added keys:
    ``frame_inds``, ``clip_len``, ``frame_interval``, ``num_clips``.

    Args:
        clip_len (int): Frames per video (``DATA.NUM_INPUT_FRAMES``).
            Defaults to 8.
        sampling_rate (int): ``DATA.SAMPLING_RATE``. Defaults to 50.
        target_fps (float): ``DATA.TARGET_FPS``. Defaults to 12.
        test_mode (bool): Deterministic indices. Defaults to False.
    """

    def __init__(self,
                 clip_len: int = 8,
                 sampling_rate: int = 50,
                 target_fps: float = 12,
                 test_mode: bool = False) -> None:
        if clip_len < 2:
            raise ValueError(f'clip_len must be >= 2, got {clip_len}')
        if sampling_rate < 1 or target_fps <= 0:
            raise ValueError('sampling_rate must be >= 1 and target_fps > 0, '
                             f'got {sampling_rate} and {target_fps}')
        self.clip_len = clip_len
        self.sampling_rate = sampling_rate
        self.target_fps = target_fps
        self.test_mode = test_mode

    def _segment_inds(self, num_frames: int) -> np.ndarray:
        """One frame per segment of ``L // clip_len`` frames (L505-509)."""
        length = num_frames // self.clip_len
        if length == 0:
            # the reference cannot sample such a video (randint(0, -1));
            # take the frames evenly instead of failing
            return np.linspace(0, num_frames - 1, self.clip_len).astype(int)
        starts = np.arange(self.clip_len) * length
        if self.test_mode:
            return starts + (length - 1) // 2
        return np.array([random.randint(s, s + length - 1) for s in starts])

    def _window_inds(self, num_frames: int, fps: float) -> np.ndarray:
        """Evenly spaced frames of a window (L510-528)."""
        window = self.clip_len * self.sampling_rate * fps / self.target_fps
        if window > num_frames:
            window = num_frames // self.clip_len * self.clip_len
        max_idx = max(num_frames - window + 1, 0)
        start = max_idx / 2 if self.test_mode else random.uniform(0, max_idx)
        end = start + window - self.sampling_rate
        inds = torch.linspace(start, end, self.clip_len)
        return torch.clamp(inds, 0, num_frames - 1).long().numpy()

    def transform(self, results: Dict) -> Dict:
        """Set ``frame_inds`` for ``DecordDecode``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        num_frames = results['total_frames']
        if self.sampling_rate > 40:
            inds = self._segment_inds(num_frames)
        else:
            fps = results.get('avg_fps') or self.target_fps
            inds = self._window_inds(num_frames, fps)
        results['frame_inds'] = (inds + results.get('start_index', 0)).astype(
            np.int32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = 1
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'sampling_rate={self.sampling_rate}, '
                f'target_fps={self.target_fps}, '
                f'test_mode={self.test_mode})')
