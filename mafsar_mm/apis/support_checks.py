"""Checks of the class names and videos given to the few-shot inferencer.

One path for every way of giving classes (a support dict, folder or list
file, or zero-shot class names): :func:`check_class_names` refuses blank
names and names that are the same class once whitespace is normalised
(``'walking'`` and ``' walking '`` would split one class's score in two),
:func:`check_support` adds the support-set checks,
:func:`check_videos_exist` refuses a missing video before any is decoded and
:func:`warn_queries_in_support` flags a query that is also a support video.
"""
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence, Union

from mmengine.logging import print_log

from mafsar_mm.datasets.annotation_files import class_name_key
from mafsar_mm.utils.errors import InputError

#: A support set as given: a dict of class name -> videos, a folder or a
#: list file (see ``support_sources.parse_support``).
SupportSpec = Union[str, Dict[str, Sequence[str]]]


def check_class_names(names: Sequence[str]) -> None:
    """Refuse blank class names and names equal after whitespace
    normalisation (the dataset's :func:`class_name_key`).

    Args:
        names (Sequence[str]): The class names, in order.

    Raises:
        InputError: Naming the blank entry, or both names of a pair.
    """
    seen = {}
    for index, name in enumerate(names, 1):
        norm = class_name_key(name)
        if not norm:
            raise InputError(
                f'Class name {index} of {len(names)} is empty or only '
                f'whitespace ({name!r}); every class needs a name.')
        if norm in seen:
            raise InputError(
                f'Class names {seen[norm]!r} and {name!r} are the same '
                f'class ({norm!r} once whitespace is normalised); give '
                'each class once.')
        seen[norm] = name


def check_support(support: Dict[str, Sequence[str]]) -> None:
    """Check that a support set has >= 2 classes, each with a video, and
    usable class names (:func:`check_class_names`).

    Args:
        support (dict[str, Sequence[str]]): Class name -> video paths.

    Raises:
        ValueError: On a class without videos or fewer than 2 classes;
            :class:`InputError` on bad class names.
    """
    check_class_names(list(support))
    empty = [name for name, videos in support.items() if len(videos) == 0]
    if empty:
        raise ValueError(
            f'Support classes without any video: {empty}. Every class '
            'needs at least one support video (or none has any: '
            'zero-shot prediction from the class names).')
    if len(support) < 2:
        raise ValueError(
            f'Few-shot inference needs at least 2 support classes, got '
            f'{len(support)} ({list(support)}).')


def check_videos_exist(paths: Iterable[str]) -> None:
    """Refuse a video path that is not a file.

    Raises:
        FileNotFoundError: ``Video not found: <path>`` for the first one.
    """
    for path in paths:
        if not osp.isfile(path):
            raise FileNotFoundError(f'Video not found: {path}')


def warn_queries_in_support(queries: Iterable[str],
                            support: Dict[str, Sequence[str]]) -> None:
    """Log a warning for every query that is also a support video (the
    same file after ``os.path.realpath``): it is then trivially matched.

    Args:
        queries (Iterable[str]): Query video paths.
        support (dict[str, Sequence[str]]): Class name -> video paths.
    """
    classes = {
        osp.realpath(path): name
        for name, paths in support.items() for path in paths
    }
    for query in queries:
        name = classes.get(osp.realpath(query))
        if name is not None:
            print_log(
                f'Query {query} is also a support video of class '
                f'{name!r}; it will trivially match that class.',
                logger='current',
                level=30)


def zero_shot_class_names(
        support: Optional[SupportSpec],
        zero_shot_classes: Optional[Sequence[str]]) -> Optional[List[str]]:
    """The classes of a zero-shot support set, or None with support
    videos.

    Zero-shot: ``zero_shot_classes`` given (``support`` must then be
    None or empty), or ``support`` a dict whose classes all map to no
    video.
    """
    if zero_shot_classes is not None:
        if support:
            raise ValueError(
                'Give either support videos or zero_shot_classes, not '
                'both (zero-shot prediction does not use support '
                'videos).')
        if isinstance(zero_shot_classes, str):
            zero_shot_classes = [zero_shot_classes]
        names = [str(n) for n in zero_shot_classes]
    elif isinstance(support, dict) and support and all(
            not isinstance(videos, str) and len(videos) == 0
            for videos in support.values()):
        names = [str(n) for n in support]
    elif support is None:
        raise ValueError('Give support videos or zero_shot_classes.')
    else:
        return None
    check_class_names(names)
    if len(names) < 2:
        raise ValueError('Zero-shot prediction needs at least 2 '
                         f'classes, got {len(names)} ({names}).')
    return names
