"""Readers of a few-shot dataset's text files: the class-name file (one
name per line, line i for label i) and MMAction2 video annotation lists
(``<path> <label>`` per line). The one parser of both: the dataset reads
them here and ``video_check`` (``tools/data/check_videos.py``) reports on
them with the same line and label rules."""

import os.path as osp
from typing import Dict, List, Optional, Tuple

from mafsar_mm.utils.errors import InputError
from mafsar_mm.utils.text_files import read_text_lines


def class_name_key(name: str) -> str:
    """The form in which two class names are the same class: white space
    folded (``' walking '`` and ``'walking'`` are one class)."""
    return ' '.join(name.split())


def class_name_lines(path: str) -> List[str]:
    """The stripped lines of a class-name file, trailing blank lines
    dropped (line ``i`` names label ``i``); not checked further."""
    names = [line.strip() for line in read_text_lines(path)]
    while names and not names[-1]:
        names.pop()
    return names


def read_class_names(path: str) -> List[str]:
    """Read one class name per line; line ``i`` names label ``i``."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Class-name file not found: {path}. It must list one class '
            'name per line, line i naming label i (see data/README.md).')
    names = class_name_lines(path)
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


def parse_annotation_line(line: str) -> Optional[Tuple[str, str]]:
    """Split ``'<path> <label>'`` into path and label text.

    The path may contain spaces (Kinetics class folders do), so the label
    is taken as the last whitespace-separated field.

    Args:
        line (str): One annotation line.

    Returns:
        tuple[str, str] | None: ``(path, label text)``, or None for a
        blank line. A line with one field gives ``(path, '')``; the label
        text is not checked (see :func:`parse_label`).
    """
    text = line.strip()
    if not text:
        return None
    parts = text.rsplit(maxsplit=1)
    if len(parts) == 1:
        return text, ''
    return parts[0], parts[1]


def parse_label(text: str) -> Optional[int]:
    """The integer of a label field, or None when it is not one."""
    return int(text) if text.lstrip('-').isdigit() else None


def read_annotations(path: str) -> List[tuple]:
    """Read MMAction2 video annotation lines ``<path> <label>``."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Annotation file not found: {path}. Expected lines of '
            '`<video path> <label>` (see data/README.md; '
            'tools/data/prepare_fewshot.py writes them).')
    items = []
    for lineno, line in enumerate(read_text_lines(path), 1):
        parsed = parse_annotation_line(line)
        if parsed is None:
            continue
        label = parse_label(parsed[1])
        if label is None:
            raise InputError(f'{path}:{lineno}: expected `<video path> '
                             f'<label>`, got {line.strip()!r}')
        items.append((parsed[0], label))
    if not items:
        raise InputError(f'Annotation file {path} lists no videos.')
    return items
