"""The public few-shot class splits shipped in ``data/splits``.

Each benchmark is a folder ``data/splits/<benchmark>/`` with
``{train,val,test}.txt`` (one ``<class key>/<video id>`` per line) and
``class_names.tsv`` (``<class key><TAB><readable name>``, in global label
order). This module finds and reads them; :mod:`.fewshot_splits` turns
them into dataset files.
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

from mafsar_mm.utils.text_files import read_text_lines

SPLITS = ('train', 'val', 'test')
CLASS_NAME_FILE = 'class_names.tsv'

_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Default location of the shipped split lists: ``data/splits`` of a
#: source checkout, else the copy a regular install puts in
#: ``mafsar_mm/.mim/data/splits`` (see setup.py).
DEFAULT_SPLITS_DIR = next(
    (path for path in (osp.normpath(
        osp.join(_PACKAGE, '..', 'data', 'splits')),
                       osp.join(_PACKAGE, '.mim', 'data', 'splits'))
     if osp.isdir(path)),
    osp.normpath(osp.join(_PACKAGE, '..', 'data', 'splits')))


def _natural_key(text: str) -> Tuple:
    """Sort key that orders 'train2' before 'train10'."""
    return tuple((0, int(part)) if part.isdigit() else (1, part)
                 for part in re.split(r'(\d+)', text))


def available_benchmarks(splits_dir: Optional[str] = None) -> List[str]:
    """Benchmarks with split lists in ``splits_dir``.

    Args:
        splits_dir (str, optional): Folder of ``<benchmark>/`` split
            folders. Defaults to the repository's ``data/splits``.

    Returns:
        list[str]: Benchmark names, sorted.
    """
    splits_dir = splits_dir or DEFAULT_SPLITS_DIR
    if not osp.isdir(splits_dir):
        return []
    return sorted(
        name for name in os.listdir(splits_dir)
        if all(osp.isfile(osp.join(splits_dir, name, f'{s}.txt'))
               for s in SPLITS))


def read_split_list(path: str) -> List[Tuple[str, str]]:
    """Read a ``<class key>/<video id>`` list.

    Args:
        path (str): The list file. Blank lines are skipped; the video id is
            the part after the last '/', the class key everything before.

    Returns:
        list[tuple[str, str]]: ``(class key, video id)`` in file order.
    """
    entries = []
    for lineno, line in enumerate(read_text_lines(path), 1):
        line = line.strip()
        if not line:
            continue
        if '/' not in line:
            raise ValueError(f'{path}:{lineno}: expected '
                             f'`<class>/<video id>`, got {line!r}')
        key, vid = line.rsplit('/', 1)
        entries.append((key, vid))
    return entries


def read_class_name_table(path: str) -> 'OrderedDict[str, str]':
    """Read ``class_names.tsv``: ``<class key><TAB><readable name>``.

    Args:
        path (str): The tsv file; line order is the global label order.

    Returns:
        OrderedDict[str, str]: ``{class key: readable name}``.
    """
    names: 'OrderedDict[str, str]' = OrderedDict()
    for lineno, line in enumerate(read_text_lines(path), 1):
        if not line.strip():
            continue
        key, sep, name = line.partition('\t')
        if not sep or not name.strip():
            raise ValueError(f'{path}:{lineno}: expected '
                             f'`<class key><TAB><name>`, got {line!r}')
        if key in names:
            raise ValueError(f'{path}:{lineno}: duplicate key {key!r}')
        names[key] = name.strip()
    return names


def load_splits(
    benchmark: str,
    splits_dir: Optional[str] = None
) -> Tuple[Dict[str, List[Tuple[str, str]]], 'OrderedDict[str, str]']:
    """Load a benchmark's split lists and its global class order.

    Args:
        benchmark (str): Folder name under ``splits_dir``.
        splits_dir (str, optional): Folder of split folders. Defaults to
            the repository's ``data/splits``.

    Returns:
        tuple: ``({split: [(class key, video id)]}, {class key: name})``.
        The class mapping covers every class of the three splits, in label
        order. Without ``class_names.tsv``, classes are ordered train, val,
        test (naturally sorted within a split) and named by their key.
    """
    splits_dir = splits_dir or DEFAULT_SPLITS_DIR
    bench_dir = osp.join(splits_dir, benchmark)
    if not osp.isdir(bench_dir):
        known = ', '.join(available_benchmarks(splits_dir)) or 'none'
        raise FileNotFoundError(
            f'No split lists for {benchmark!r} in {splits_dir} (found: '
            f'{known}). Pass --splits-dir or add {bench_dir}/'
            '{train,val,test}.txt.')
    lists = {}
    for split in SPLITS:
        path = osp.join(bench_dir, f'{split}.txt')
        if not osp.isfile(path):
            raise FileNotFoundError(f'Missing split list {path}.')
        lists[split] = read_split_list(path)

    name_file = osp.join(bench_dir, CLASS_NAME_FILE)
    if osp.isfile(name_file):
        names = read_class_name_table(name_file)
    else:
        names = OrderedDict()
        for split in SPLITS:
            keys = {key for key, _ in lists[split]}
            for key in sorted(keys, key=_natural_key):
                names.setdefault(key, key)

    owner: Dict[str, str] = {}
    for split in SPLITS:
        for key, _ in lists[split]:
            if key not in names:
                raise ValueError(f'Class {key!r} of {split}.txt is not in '
                                 f'{name_file}.')
            if owner.setdefault(key, split) != split:
                raise ValueError(f'Class {key!r} is in both {owner[key]} '
                                 f'and {split}: few-shot splits must have '
                                 'disjoint classes.')
    return lists, names
