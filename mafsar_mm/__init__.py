"""mafsar_mm: few-shot action recognition (MA-FSAR and baselines) for
MMAction2.

Importing the package registers every part in MMAction2's registries
(``mmaction.registry``): datasets, samplers, models, metrics and loops.
"""
from . import datasets, engine, evaluation, models, structures  # noqa: F401
from .version import __version__

__all__ = ['__version__']
