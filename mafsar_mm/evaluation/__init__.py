from .atomic_dump_results import AtomicDumpResults
from .few_shot_accuracy import FewShotAccuracy, mean_and_ci95

__all__ = ['AtomicDumpResults', 'FewShotAccuracy', 'mean_and_ci95']
