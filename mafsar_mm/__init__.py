"""mafsar_mm: few-shot action recognition (MA-FSAR and baselines) for
MMAction2. Importing the package registers every part in MMAction2's
registries."""
from .version import __version__

__all__ = ['__version__']
