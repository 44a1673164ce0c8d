"""Readers of a few-shot dataset's text files: the class-name file (one
name per line, line i for label i) and MMAction2 video annotation lists
(``<path> <label>`` per line)."""

import os.path as osp
from typing import Dict, List

from mafsar_mm.utils.errors import InputError
from mafsar_mm.utils.text_files import read_text_lines


def class_name_key(name: str) -> str:
    """The form in which two class names are the same class: white space
    folded (``' walking '`` and ``'walking'`` are one class)."""
    return ' '.join(name.split())


def read_class_names(path: str) -> List[str]:
    """Read one class name per line; line ``i`` names label ``i``."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Class-name file not found: {path}. It must list one class '
            'name per line, line i naming label i (see data/README.md).')
    names = [line.strip() for line in read_text_lines(path)]
    while names and not names[-1]:
        names.pop()
    if not names or any(not name for name in names):
        raise InputError(f'Class-name file {path} is empty or has a blank '
                         'line; it needs one name per label.')
    # two labels with one name would share one text feature and split its
    # score (names compared with their white space folded)
    first_line: Dict[str, int] = {}
    for lineno, name in enumerate(names, 1):
        key = class_name_key(name)
        if key in first_line:
            raise InputError(
                f'{path}:{lineno}: class name {name!r} repeats line '
                f'{first_line[key]}; every label needs its own name.')
        first_line[key] = lineno
    return names


def read_annotations(path: str) -> List[tuple]:
    """Read MMAction2 video annotation lines ``<path> <label>``."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Annotation file not found: {path}. Expected lines of '
            '`<video path> <label>` (see data/README.md; '
            'tools/data/prepare_fewshot.py writes them).')
    items = []
    for lineno, line in enumerate(read_text_lines(path), 1):
        line = line.strip()
        if not line:
            continue
        parts = line.rsplit(maxsplit=1)
        if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
            raise InputError(f'{path}:{lineno}: expected `<video path> '
                             f'<label>`, got {line!r}')
        items.append((parts[0], int(parts[1])))
    if not items:
        raise InputError(f'Annotation file {path} lists no videos.')
    return items
