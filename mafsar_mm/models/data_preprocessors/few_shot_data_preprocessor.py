"""Normalise episode clips and move them to the model's device."""
from typing import Optional, Sequence

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseDataPreprocessor

# CLIP's normalisation on the 0..255 scale (open_clip OPENAI_DATASET_MEAN /
# OPENAI_DATASET_STD times 255).
CLIP_MEAN = (122.771, 116.746, 104.094)
CLIP_STD = (68.501, 66.632, 70.323)


@MODELS.register_module()
class FewShotDataPreprocessor(BaseDataPreprocessor):
    """Stack episodes, cast to float and normalise per channel.

    Input per episode: uint8 ``[V, C, T, H, W]`` (V = N*(K+Q) videos).
    Output ``inputs``: float ``[B, V, C, T, H, W]``.

    Args:
        mean (Sequence[float], optional): Per-channel mean on the 0..255
            scale. Defaults to CLIP's.
        std (Sequence[float], optional): Per-channel std on the 0..255
            scale. Defaults to CLIP's.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = CLIP_MEAN,
                 std: Optional[Sequence[float]] = CLIP_STD) -> None:
        super().__init__()
        if (mean is None) != (std is None):
            raise ValueError('mean and std must be given together')
        self._normalize = mean is not None
        if self._normalize:
            # broadcast over [..., C, T, H, W]
            shape = (-1, 1, 1, 1)
            self.register_buffer(
                'mean', torch.tensor(mean).view(shape), persistent=False)
            self.register_buffer(
                'std', torch.tensor(std).view(shape), persistent=False)

    def normalize(self, clips: torch.Tensor) -> torch.Tensor:
        """The one normalisation of the package: uint8 clips ``[..., C, T,
        H, W]`` (one clip, a stack of videos or a batch of episodes) to
        float on the model's device, normalised per channel.

        Every reader of raw clips goes through it: :meth:`forward` (the
        Runner's loops), the recognizer's ``encode_clips`` (feature cache
        and inferencer, through :meth:`forward`) and the analysis tools.
        """
        if clips.dim() < 4:
            raise ValueError('Clips must be [..., C, T, H, W], got shape '
                             f'{tuple(clips.shape)}')
        clips = clips.to(self.device).float()
        if self._normalize:
            clips = (clips - self.mean) / self.std
        return clips

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, torch.Tensor):
            inputs = [inputs] if inputs.dim() == 5 else list(inputs)
        if any(x.dim() != 5 for x in inputs):
            raise ValueError(
                'Each episode must be a [V, C, T, H, W] tensor, got shapes '
                f'{[tuple(x.shape) for x in inputs]}')
        # B x [V, C, T, H, W] -> [B, V, C, T, H, W]
        inputs = self.normalize(torch.stack(inputs))
        samples = data.get('data_samples', None)
        if samples is not None and not isinstance(samples, (list, tuple)):
            samples = [samples]
        return dict(inputs=inputs, data_samples=samples)
