from .few_shot_data_preprocessor import FewShotDataPreprocessor

__all__ = ['FewShotDataPreprocessor']
