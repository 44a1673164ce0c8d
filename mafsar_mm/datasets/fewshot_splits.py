"""Turn the public few-shot class splits into dataset files.

The standard few-shot action recognition benchmarks ship as lists of video
ids per split (``data/splits/<benchmark>/{train,val,test}.txt``, one
``<class key>/<video id>`` per line) plus ``class_names.tsv``
(``<class key><TAB><readable name>``, in global label order). This module
finds every listed video under a user's raw video folder and writes the
files :class:`FewShotVideoDataset` loads::

    out_dir/
        classes.txt   # one readable class name per line; line i = label i
        train.txt     # '<path relative to video root> <label>' per line
        val.txt
        test.txt
        missing.txt   # listed videos that were not found (always written)
        bad_videos.txt  # with a checker: '<path><TAB><reason>' per line

Labels are global over the three splits and follow ``class_names.tsv``, so
they do not change when some videos are missing. Missing or broken videos
are reported and left out; they never stop the conversion.

Only the standard library is used, and no other ``mafsar_mm`` module is
imported, so the module can be loaded on its own.
"""
import os
import os.path as osp
import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import (Callable, Dict, Iterable, List, Mapping, Optional,
                    Sequence, Tuple)

SPLITS = ('train', 'val', 'test')
CLASS_NAME_FILE = 'class_names.tsv'

#: Video file extensions searched for when none is given.
VIDEO_EXTS = ('.mp4', '.webm', '.avi', '.mkv', '.mov', '.m4v', '.flv',
              '.mpg', '.mpeg', '.wmv', '.3gp')

#: Default location of the shipped split lists (a source checkout).
DEFAULT_SPLITS_DIR = osp.normpath(
    osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'data',
             'splits'))

#: Videos a class needs for one 5-way 5-shot episode (5 support + 1 query).
MIN_VIDEOS_5SHOT = 6

# Kinetics clips are named '<11-char YouTube id>_<start>_<end>' by the
# ActivityNet crawler, or just '<YouTube id>' in some copies.
_KINETICS_STEM = re.compile(r'^(?P<yt>[A-Za-z0-9_-]{11})(_\d+_\d+)?$')


@dataclass(frozen=True)
class BenchmarkInfo:
    """How a benchmark's raw videos are usually laid out on disk.

    Args:
        layout (str): Human-readable description of the usual layout.
        ext_preference (tuple[str]): Extensions to prefer, best first, when
            one id matches several files.
        youtube_ids (bool): Whether ids may also be matched by their
            11-character YouTube id (Kinetics). Defaults to False.
    """
    layout: str
    ext_preference: Tuple[str, ...]
    youtube_ids: bool = False


BENCHMARKS: Dict[str, BenchmarkInfo] = OrderedDict(
    ssv2_full=BenchmarkInfo(
        layout='<video-root>/<id>.webm (the flat folder of the official '
        'Something-Something V2 download; re-encoded <id>.mp4 also works)',
        ext_preference=('.webm', '.mp4')),
    ssv2_small=BenchmarkInfo(
        layout='<video-root>/<id>.webm (as for ssv2_full)',
        ext_preference=('.webm', '.mp4')),
    kinetics100=BenchmarkInfo(
        layout='<video-root>/{train,val}/<class>/<youtube_id>_<start>_'
        '<end>.mp4 (Kinetics-400 as downloaded by the ActivityNet crawler; '
        'some CMN clips are in its val set; flat folders and '
        '<youtube_id>.mp4 names are found too)',
        ext_preference=('.mp4', '.webm', '.mkv'),
        youtube_ids=True),
    ucf101=BenchmarkInfo(
        layout='<video-root>/<Class>/v_<Class>_gXX_cYY.avi (the UCF-101 '
        'folder of UCF101.rar)',
        ext_preference=('.avi', '.mp4')),
    hmdb51=BenchmarkInfo(
        layout='<video-root>/<class>/<name>.avi (hmdb51_org.rar with '
        'every per-class rar extracted into its own folder)',
        ext_preference=('.avi', '.mp4')),
)

#: A checker takes absolute video paths and returns ``{path: reason}``
#: for the ones that are not usable.
Checker = Callable[[Sequence[str]], Mapping[str, str]]


@dataclass
class SplitStats:
    """What one split ended up with.

    Args:
        listed (int): Videos in the split list.
        videos (int): Videos written to the annotation file.
        classes (int): Classes with at least one written video.
        listed_classes (int): Classes in the split list.
        missing (int): Listed videos not found under the video root.
        bad (int): Found videos rejected by the checker.
        small_classes (dict): ``{class name: videos}`` for classes with
            fewer than ``min_videos`` videos (zero included).
    """
    listed: int = 0
    videos: int = 0
    classes: int = 0
    listed_classes: int = 0
    missing: int = 0
    bad: int = 0
    small_classes: Dict[str, int] = field(default_factory=dict)


@dataclass
class PrepareResult:
    """Outcome of :func:`prepare_fewshot`.

    Args:
        class_names (list[str]): Readable names; index = label.
        splits (dict): ``{split: SplitStats}``.
        missing (list[tuple]): ``(split, '<class key>/<video id>')``.
        bad (list[tuple]): ``(split, relative path, reason)``.
        files (dict): ``{name: path}`` of the files written.
    """
    class_names: List[str]
    splits: Dict[str, SplitStats]
    missing: List[Tuple[str, str]]
    bad: List[Tuple[str, str, str]]
    files: Dict[str, str]

    @property
    def num_videos(self) -> int:
        """Total number of videos written over all splits."""
        return sum(s.videos for s in self.splits.values())


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
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if '/' not in line:
                raise ValueError(f'{path}:{lineno}: expected '
                                 f'`<class>/<video id>`, got {line!r}')
            key, vid = line.rsplit('/', 1)
            entries.append((key, vid))
    return entries


def read_class_names(path: str) -> 'OrderedDict[str, str]':
    """Read ``class_names.tsv``: ``<class key><TAB><readable name>``.

    Args:
        path (str): The tsv file; line order is the global label order.

    Returns:
        OrderedDict[str, str]: ``{class key: readable name}``.
    """
    names: 'OrderedDict[str, str]' = OrderedDict()
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip('\r\n')
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
        names = read_class_names(name_file)
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


def _norm_dir(name: str) -> str:
    """Folder names compare case- and separator-insensitively."""
    return re.sub(r'[\s_]+', ' ', name).strip().lower()


class VideoIndex:
    """Every video file under a root folder, searchable by file stem.

    Args:
        root (str): The video root, walked recursively (symlinks followed).
        exts (Sequence[str], optional): Extensions to index. Defaults to
            :data:`VIDEO_EXTS`.
    """

    def __init__(self, root: str, exts: Optional[Sequence[str]] = None):
        if not osp.isdir(root):
            raise FileNotFoundError(f'Video root {root} is not a folder.')
        self.root = root
        self.exts = tuple(e.lower() for e in (exts or VIDEO_EXTS))
        self.by_stem: Dict[str, List[str]] = defaultdict(list)
        self.by_lower: Dict[str, List[str]] = defaultdict(list)
        self.by_youtube: Dict[str, List[str]] = defaultdict(list)
        self.num_files = 0
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames.sort()
            rel_dir = osp.relpath(dirpath, root)
            for fname in sorted(filenames):
                stem, ext = osp.splitext(fname)
                if ext.lower() not in self.exts:
                    continue
                rel = fname if rel_dir == '.' else osp.join(rel_dir, fname)
                rel = rel.replace(os.sep, '/')
                self.num_files += 1
                self.by_stem[stem].append(rel)
                self.by_lower[stem.lower()].append(rel)
                match = _KINETICS_STEM.match(stem)
                if match:
                    self.by_youtube[match.group('yt')].append(rel)

    def candidates(self,
                   video_id: str,
                   youtube_ids: bool = False) -> List[str]:
        """Files whose stem is ``video_id``.

        Args:
            video_id (str): The id from the split list.
            youtube_ids (bool): Fall back to the 11-character YouTube id.
                Defaults to False.

        Returns:
            list[str]: Paths relative to the root: exact stem matches, else
            case-insensitive ones, else (with ``youtube_ids``) files of the
            same YouTube video.
        """
        found = self.by_stem.get(video_id) or self.by_lower.get(
            video_id.lower())
        if not found and youtube_ids:
            match = _KINETICS_STEM.match(video_id)
            if match:
                found = self.by_youtube.get(match.group('yt'))
        return list(found or [])

    def find(self,
             video_id: str,
             class_key: str = '',
             ext_preference: Sequence[str] = (),
             youtube_ids: bool = False) -> Optional[str]:
        """The best file for a listed video, or None.

        Among several candidates, one inside a folder named like the class
        wins, then the preferred extension, then the shortest path.

        Args:
            video_id (str): The id from the split list.
            class_key (str): Its class key (folder name in most layouts).
                Defaults to ''.
            ext_preference (Sequence[str]): Extensions, best first.
                Defaults to ().
            youtube_ids (bool): See :meth:`candidates`. Defaults to False.

        Returns:
            str | None: Path relative to the root.
        """
        found = self.candidates(video_id, youtube_ids)
        if len(found) <= 1:
            return found[0] if found else None
        want_dir = _norm_dir(class_key)
        prefs = [e.lower() for e in ext_preference]

        def rank(rel: str) -> Tuple:
            parts = rel.split('/')
            in_class = any(_norm_dir(p) == want_dir for p in parts[:-1])
            ext = osp.splitext(rel)[1].lower()
            ext_rank = prefs.index(ext) if ext in prefs else len(prefs)
            return (not in_class, ext_rank, len(parts), len(rel), rel)

        return min(found, key=rank)


def _normalise_ext(ext: Optional[str]) -> Optional[str]:
    if not ext or ext.lower() == 'auto':
        return None
    return ext.lower() if ext.startswith('.') else '.' + ext.lower()


def _write_lines(path: str, lines: Iterable[str]) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        for line in lines:
            f.write(line + '\n')


def prepare_fewshot(benchmark: str,
                    video_root: str,
                    out_dir: str,
                    splits_dir: Optional[str] = None,
                    ext: Optional[str] = None,
                    checker: Optional[Checker] = None,
                    min_videos: int = MIN_VIDEOS_5SHOT,
                    log: Optional[Callable[[str], None]] = print,
                    max_listed: int = 5) -> PrepareResult:
    """Write ``classes.txt`` and ``{train,val,test}.txt`` for a benchmark.

    Args:
        benchmark (str): A folder under ``splits_dir``, e.g. ``ssv2_full``,
            ``ssv2_small``, ``kinetics100``, ``ucf101``, ``hmdb51``.
        video_root (str): Folder holding the raw videos (any nesting). The
            annotation paths are relative to it.
        out_dir (str): Where the dataset files go (created if needed).
        splits_dir (str, optional): Folder of split folders. Defaults to
            the repository's ``data/splits``.
        ext (str, optional): Only consider files with this extension
            (``'.mp4'``, ``'webm'``, ...). Defaults to None (any video
            extension, the benchmark's usual one preferred).
        checker (Checker, optional): Called once with the absolute paths of
            all found videos; the ones it returns (with a reason) are left
            out and written to ``bad_videos.txt``. Defaults to None (no
            decoding check).
        min_videos (int): Warn for classes with fewer videos than this.
            Defaults to 6 (5 support + 1 query of a 5-shot episode).
        log (callable, optional): Receives report lines. Defaults to
            ``print``; None silences the report.
        max_listed (int): How many missing or bad videos to show in the
            report. Defaults to 5.

    Returns:
        PrepareResult: Class names, per-split counts, missing and bad
        videos, and the files written.
    """
    say = log or (lambda msg: None)
    lists, names = load_splits(benchmark, splits_dir)
    info = BENCHMARKS.get(benchmark, BenchmarkInfo('', ()))
    ext = _normalise_ext(ext)
    index = VideoIndex(video_root, (ext, ) if ext else None)
    say(f'[{benchmark}] indexed {index.num_files} video files under '
        f'{video_root}')

    label_of = {key: i for i, key in enumerate(names)}
    class_names = list(names.values())

    found: Dict[str, List[Tuple[str, int]]] = {}
    missing: List[Tuple[str, str]] = []
    for split in SPLITS:
        rows = []
        for key, vid in lists[split]:
            rel = index.find(vid, key, info.ext_preference, info.youtube_ids)
            if rel is None:
                missing.append((split, f'{key}/{vid}'))
            else:
                rows.append((rel, label_of[key]))
        found[split] = rows

    bad: List[Tuple[str, str, str]] = []
    if checker is not None:
        paths = sorted({osp.join(video_root, rel)
                        for rows in found.values() for rel, _ in rows})
        say(f'[{benchmark}] checking {len(paths)} videos ...')
        reasons = dict(checker(paths))
        for split in SPLITS:
            kept = []
            for rel, label in found[split]:
                reason = reasons.get(osp.join(video_root, rel))
                if reason:
                    bad.append((split, rel, reason))
                else:
                    kept.append((rel, label))
            found[split] = kept

    os.makedirs(out_dir, exist_ok=True)
    files = {'classes': osp.join(out_dir, 'classes.txt')}
    _write_lines(files['classes'], class_names)
    for split in SPLITS:
        files[split] = osp.join(out_dir, f'{split}.txt')
        _write_lines(files[split],
                     (f'{rel} {label}' for rel, label in found[split]))
    files['missing'] = osp.join(out_dir, 'missing.txt')
    _write_lines(files['missing'], (f'{s}\t{e}' for s, e in missing))
    if checker is not None:
        files['bad'] = osp.join(out_dir, 'bad_videos.txt')
        _write_lines(files['bad'], (f'{rel}\t{reason}'
                                    for _, rel, reason in bad))

    keys = list(names)
    stats: Dict[str, SplitStats] = {}
    for split in SPLITS:
        split_keys = sorted({key for key, _ in lists[split]},
                            key=label_of.__getitem__)
        listed_keys = OrderedDict((key, 0) for key in split_keys)
        for _, label in found[split]:
            listed_keys[keys[label]] += 1
        st = SplitStats(
            listed=len(lists[split]),
            videos=len(found[split]),
            classes=sum(1 for n in listed_keys.values() if n),
            listed_classes=len(listed_keys),
            missing=sum(1 for s, _ in missing if s == split),
            bad=sum(1 for s, _, _ in bad if s == split),
            small_classes={names[k]: n
                           for k, n in listed_keys.items() if n < min_videos})
        stats[split] = st
        say(f'[{benchmark}] {split}: {st.classes}/{st.listed_classes} '
            f'classes, {st.videos}/{st.listed} videos (missing '
            f'{st.missing}, bad {st.bad})')
        if st.small_classes:
            shown = ', '.join(f'{n!r} ({c})' for n, c in list(
                st.small_classes.items())[:max_listed])
            more = len(st.small_classes) - max_listed
            say(f'[{benchmark}] WARNING {split}: '
                f'{len(st.small_classes)} classes have fewer than '
                f'{min_videos} videos (a 5-shot episode needs 5 + 1): '
                f'{shown}' + (f' and {more} more' if more > 0 else ''))

    if missing:
        shown = ', '.join(e for _, e in missing[:max_listed])
        say(f'[{benchmark}] {len(missing)} listed videos not found, e.g. '
            f'{shown}; full list in {files["missing"]}')
    if bad:
        shown = ', '.join(f'{rel} ({reason})'
                          for _, rel, reason in bad[:max_listed])
        say(f'[{benchmark}] {len(bad)} videos left out as unusable, e.g. '
            f'{shown}; full list in {files["bad"]}')
    say(f'[{benchmark}] wrote {len(class_names)} class names and '
        f'{sum(s.videos for s in stats.values())} videos to {out_dir}')
    return PrepareResult(
        class_names=class_names,
        splits=stats,
        missing=missing,
        bad=bad,
        files=files)
