from .few_shot_head import FewShotHead

__all__ = ['FewShotHead']
