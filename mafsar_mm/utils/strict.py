"""``--strict`` of ``tools/train.py`` and ``tools/test.py``."""
from mmengine.config import Config


def make_strict(cfg: Config) -> Config:
    """Make every episode dataset of a config stop on duplicate videos
    (``duplicates='error'``) instead of warning and using each once.

    Args:
        cfg (Config): The config, changed in place.

    Returns:
        Config: ``cfg``.
    """
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader', None)
        dataset = loader.get('dataset', None) if loader else None
        name = str(dataset.get('type', '')) if dataset else ''
        if name.split('.')[-1] == 'FewShotVideoDataset':
            dataset.duplicates = 'error'
    return cfg
