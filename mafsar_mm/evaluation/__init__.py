from .few_shot_accuracy import FewShotAccuracy, mean_and_ci95

__all__ = ['FewShotAccuracy', 'mean_and_ci95']
