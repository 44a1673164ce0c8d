from . import adapters, backbones, losses, matchers, necks, text  # noqa: F401
from .data_preprocessors import FewShotDataPreprocessor
from .heads import FewShotHead
from .recognizers import FewShotRecognizer

__all__ = ['FewShotDataPreprocessor', 'FewShotHead', 'FewShotRecognizer']
