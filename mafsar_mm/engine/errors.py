"""Errors caused by inputs, not by bugs: the tools print their message
(which says what to fix) without a stack trace."""
from mafsar_mm.datasets import BadVideoError
from mafsar_mm.models.utils import CLIPWeightsNotFoundError
from .checkpoint_loading import CheckpointError

#: Exception types ``tools/train.py`` and ``tools/test.py`` report as one
#: message (exit code 1): bad videos, missing CLIP weights, unusable
#: checkpoints (corrupt, unsafe to unpickle, another architecture).
USER_ERRORS = (BadVideoError, CLIPWeightsNotFoundError, CheckpointError)
