"""Where a support set comes from: a dict of class name -> videos, a
folder with one sub-folder of videos per class, or a list file of
``<video path> <class name>`` lines (:func:`parse_support` reads any)."""
import os
import os.path as osp
from collections import OrderedDict
from typing import List

from mafsar_mm.datasets.video_index import VIDEO_EXTS
from mafsar_mm.utils.text_files import read_text_lines
from .support_checks import SupportSpec, check_support


def _visible_entries(folder: str) -> List[str]:
    """Names in ``folder``, sorted, without hidden ones (starting with
    ``.``: macOS ``._a.mp4`` resource forks, ``.ipynb_checkpoints``)."""
    return [
        name for name in sorted(os.listdir(folder)) if not name.startswith('.')
    ]


def _video_files(folder: str) -> List[str]:
    """Video files directly inside ``folder``, sorted by name (hidden
    files skipped)."""
    return [
        osp.join(folder, name) for name in _visible_entries(folder)
        if name.lower().endswith(VIDEO_EXTS)
        and osp.isfile(osp.join(folder, name))
    ]


def support_from_dir(
        root: str,
        underscores_to_spaces: bool = True) -> 'OrderedDict[str, List[str]]':
    """Read a support set laid out as one sub-folder per class.

    Args:
        root (str): Directory whose sub-folders are named after the classes
            and hold that class's videos (files with a known video
            extension, see ``mafsar_mm.datasets.video_index.VIDEO_EXTS``).
            Hidden entries (names starting with ``.``, such as
            ``.ipynb_checkpoints`` or macOS ``._a.mp4`` files) are
            skipped, folders and files alike.
        underscores_to_spaces (bool): Turn ``_`` in folder names into
            spaces, so ``playing_guitar`` is read as ``playing guitar`` by
            the text encoder. Defaults to True.

    Returns:
        OrderedDict[str, list[str]]: Class name -> video paths, classes in
        sorted folder order. A class folder without videos maps to an
        empty list (reported by :func:`check_support`).
    """
    support = OrderedDict()
    for name in _visible_entries(root):
        folder = osp.join(root, name)
        if not osp.isdir(folder):
            continue
        class_name = name.replace('_', ' ') if underscores_to_spaces \
            else name
        if class_name in support:
            raise ValueError(f'Two folders of {root} give the class name '
                             f'{class_name!r}.')
        support[class_name] = _video_files(folder)
    if not support:
        raise ValueError(
            f'Support directory {root} has no sub-folders; expected one '
            'sub-folder per class holding that class\'s videos.')
    return support


def support_from_list(path: str) -> 'OrderedDict[str, List[str]]':
    """Read a support list file of ``<video path><TAB><class name>`` lines.

    Relative video paths are relative to the list file's directory. Blank
    lines and lines starting with ``#`` are skipped.

    Args:
        path (str): The list file.

    Returns:
        OrderedDict[str, list[str]]: Class name -> video paths, classes in
        order of first appearance.
    """
    support = OrderedDict()
    base = osp.dirname(osp.abspath(path))
    for lineno, line in enumerate(read_text_lines(path), 1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        parts = line.split('\t')
        if len(parts) != 2 or not parts[0].strip() \
                or not parts[1].strip():
            raise ValueError(
                f'{path}:{lineno}: expected `<video path><TAB><class '
                f'name>`, got {line!r}')
        video, name = parts[0].strip(), parts[1].strip()
        if not osp.isabs(video):
            video = osp.join(base, video)
        support.setdefault(name, []).append(video)
    return support


def parse_support(support: SupportSpec) -> 'OrderedDict[str, List[str]]':
    """Turn any accepted support form into ``{class: [paths]}``.

    Args:
        support (str | dict[str, Sequence[str]]): A dict of class name
            -> video paths, a directory with one sub-folder per class,
            or a list file of ``<path><TAB><class name>`` lines.

    Returns:
        OrderedDict[str, list[str]]: The checked support set.
    """
    if isinstance(support, (str, os.PathLike)):
        support = str(support)
        if osp.isdir(support):
            support = support_from_dir(support)
        elif osp.isfile(support):
            support = support_from_list(support)
        else:
            raise FileNotFoundError(
                f'Support set not found: {support} (expected a '
                'directory with one sub-folder per class or a list '
                'file of `<path><TAB><class name>` lines).')
    elif isinstance(support, dict):
        support = OrderedDict(
            (str(name),
             [videos] if isinstance(videos, str) else list(videos))
            for name, videos in support.items())
    else:
        raise TypeError('support must be a dict, a directory or a '
                        f'list file, got {type(support).__name__}')
    check_support(support)
    return support
