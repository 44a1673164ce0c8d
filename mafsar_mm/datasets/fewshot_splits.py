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

The split lists are read by :mod:`.split_lists`, the videos found by
:class:`.video_index.VideoIndex`.
"""
import os
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import (Callable, Dict, Iterable, List, Mapping, Optional,
                    Sequence, Tuple)

from mafsar_mm.utils.progress import track_progress
from .split_lists import (CLASS_NAME_FILE, DEFAULT_SPLITS_DIR, SPLITS,
                          available_benchmarks, load_splits,
                          read_class_name_table, read_split_list)
from .video_index import VIDEO_EXTS, VideoIndex

__all__ = [
    'BENCHMARKS', 'BenchmarkInfo', 'CLASS_NAME_FILE', 'DEFAULT_SPLITS_DIR',
    'MIN_VIDEOS_5SHOT', 'PrepareResult', 'SPLITS', 'SplitStats',
    'VIDEO_EXTS', 'VideoIndex', 'available_benchmarks', 'load_splits',
    'prepare_fewshot', 'read_class_name_table', 'read_split_list'
]

#: Videos a class needs for one 5-way 5-shot episode (5 support + 1 query).
MIN_VIDEOS_5SHOT = 6


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

    found: Dict[str, List[Tuple[str, int]]] = {s: [] for s in SPLITS}
    missing: List[Tuple[str, str]] = []
    listed = [(split, key, vid) for split in SPLITS
              for key, vid in lists[split]]
    for split, key, vid in track_progress(
            listed,
            len(listed),
            f'[{benchmark}] finding {len(listed)} listed videos',
            enabled=log is not None):
        rel = index.find(vid, key, info.ext_preference, info.youtube_ids)
        if rel is None:
            missing.append((split, f'{key}/{vid}'))
        else:
            found[split].append((rel, label_of[key]))

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
