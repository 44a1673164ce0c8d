"""Find videos that cannot be used before training meets them.

:func:`check_video` opens a file with ``decord.VideoReader`` (the reader
MMAction2's ``DecordInit`` uses), reads its frame count and decodes a few
frames including the last one, with the reasons of the clip loader
(``video_loading``: empty file, too few frames). :func:`check_annotation`
does this for every line of an MMAction2 annotation file in parallel
(lines parsed as the dataset parses them, ``annotation_files``) and writes
a clean copy with only the usable lines.

"""
import multiprocessing
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from mafsar_mm.utils.progress import track_progress
from mafsar_mm.utils.text_files import read_text_lines
from .annotation_files import (class_name_lines, parse_annotation_line,
                               parse_label)
from .video_loading import is_empty_file, too_few_frames

__all__ = [
    'check_video', 'check_paths', 'check_line', 'check_annotation',
    'parse_annotation_line', 'read_num_classes', 'CheckResult'
]

#: Frames decoded per video besides the count: first, middle, last.
PROBE_POSITIONS = (0.0, 0.5, 1.0)


def check_video(path: str, min_frames: int = 8) -> Optional[str]:
    """Why a video cannot be used, or None when it is fine.

    Args:
        path (str): The video file.
        min_frames (int): Fewest frames accepted. Defaults to 8.

    Returns:
        str | None: None for a usable video, else a short reason starting
        with one of ``'missing'``, ``'empty file'``, ``'unreadable'``,
        ``'no frames'``, ``'too short'`` or ``'decode failed'``.
    """
    if not osp.isfile(path):
        return 'missing'
    if is_empty_file(path):
        return 'empty file'
    try:
        import decord
    except ImportError as exc:  # pragma: no cover - decord is required
        raise ImportError('check_video needs decord: pip install decord') \
            from exc
    try:
        reader = decord.VideoReader(path, num_threads=1)
        num_frames = len(reader)
    except Exception as exc:  # decord raises plain RuntimeErrors
        return f'unreadable ({_short(exc)})'
    if num_frames <= 0:
        return 'no frames'
    short = too_few_frames(num_frames, min_frames)
    if short is not None:
        return f'too short ({short})'
    indices = sorted({round(p * (num_frames - 1)) for p in PROBE_POSITIONS})
    try:
        frames = reader.get_batch(indices).asnumpy()
    except Exception as exc:
        return (f'decode failed (frames {indices} of {num_frames}: '
                f'{_short(exc)})')
    if frames.shape[0] != len(indices) or frames.size == 0:
        return f'decode failed (frames {indices} of {num_frames}: no data)'
    return None


def _short(exc: BaseException, limit: int = 120) -> str:
    """One line of an exception message, at most ``limit`` characters."""
    text = ' '.join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _check_one(args: Tuple[str, int]) -> Tuple[str, Optional[str]]:
    path, min_frames = args
    try:
        return path, check_video(path, min_frames)
    except Exception as exc:  # never let one file stop the pool
        return path, f'unreadable ({_short(exc)})'


def check_paths(paths: Sequence[str],
                min_frames: int = 8,
                workers: int = 1,
                progress: bool = True,
                desc: str = 'checking videos') -> Dict[str, str]:
    """Check many videos, in parallel when ``workers > 1``.

    Args:
        paths (Sequence[str]): Video files.
        min_frames (int): Fewest frames accepted. Defaults to 8.
        workers (int): Worker processes; 1 checks in this process, 0 uses
            one per CPU. Defaults to 1.
        progress (bool): Show a progress bar. Defaults to True.
        desc (str): Progress bar label. Defaults to 'checking videos'.

    Returns:
        dict[str, str]: ``{path: reason}`` for the unusable videos only.
    """
    unique = list(dict.fromkeys(paths))
    jobs = [(p, min_frames) for p in unique]
    if workers <= 0:
        workers = os.cpu_count() or 1
    workers = min(workers, max(len(jobs), 1))
    bad: Dict[str, str] = {}
    if workers == 1:
        results = map(_check_one, jobs)
        for path, reason in track_progress(results, len(jobs), desc, progress):
            if reason:
                bad[path] = reason
        return bad
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context('fork' if 'fork' in
                                      methods else 'spawn')
    chunk = max(1, min(64, len(jobs) // (workers * 8)))
    with ctx.Pool(workers) as pool:
        results = pool.imap_unordered(_check_one, jobs, chunksize=chunk)
        for path, reason in track_progress(results, len(jobs), desc, progress):
            if reason:
                bad[path] = reason
    return bad


def read_num_classes(class_name_file: str) -> int:
    """Number of labels a class-name file names (one name per line, line
    i naming label i; trailing blank lines ignored)."""
    return len(class_name_lines(class_name_file))


def check_line(path: str, label: str,
               num_classes: Optional[int] = None) -> Optional[str]:
    """What is wrong with the label part of an annotation line.

    Args:
        path (str): The path part.
        label (str): The label text ('' when the line has one field).
        num_classes (int, optional): Labels must be below this. Defaults
            to None (not checked).

    Returns:
        str | None: None for a good line, else which part is wrong.
    """
    if not label:
        return 'no label (expected `<video path> <label>`)'
    value = parse_label(label)
    if value is None:
        return f'label {label!r} is not an integer'
    if value < 0 or (num_classes is not None and value >= num_classes):
        limit = f'0..{num_classes - 1}' if num_classes else '>= 0'
        return f'label {value} is out of range (labels are {limit})'
    return None


@dataclass
class CheckResult:
    """Outcome of :func:`check_annotation`.

    Args:
        total (int): Annotation lines checked (blank lines excluded).
        good_lines (list[str]): The usable lines, in file order, each
            video once.
        bad (list[tuple[str, str]]): ``(path as written, reason)`` of the
            videos that cannot be used.
        bad_lines (list[tuple[int, str, str]]): ``(line number, line,
            reason)`` of lines whose label is missing, not an integer or
            out of range, and of repeated videos.
        out_file (str, optional): Where the clean file was written.
    """
    total: int = 0
    good_lines: List[str] = field(default_factory=list)
    bad: List[Tuple[str, str]] = field(default_factory=list)
    bad_lines: List[Tuple[int, str, str]] = field(default_factory=list)
    out_file: Optional[str] = None


def check_annotation(ann_file: str,
                     video_root: str = '',
                     min_frames: int = 8,
                     workers: int = 1,
                     out_file: Optional[str] = None,
                     progress: bool = True,
                     num_classes: Optional[int] = None) -> CheckResult:
    """Check every line of an MMAction2 annotation file: its label (an
    integer, below ``num_classes``), that its video is listed once, and
    that the video can be used.

    Args:
        ann_file (str): Lines of ``<path> <label>``; paths are relative to
            ``video_root`` unless absolute.
        video_root (str): Prefix of relative paths. Defaults to ''.
        min_frames (int): Fewest frames accepted. Defaults to 8.
        workers (int): Worker processes (0 = one per CPU). Defaults to 1.
        out_file (str, optional): Write the usable lines here. Defaults to
            None (nothing written).
        progress (bool): Show a progress bar. Defaults to True.
        num_classes (int, optional): Number of labels of the class-name
            file. Defaults to None (the range is not checked).

    Returns:
        CheckResult: Usable lines, bad videos and bad lines.

    Raises:
        FileNotFoundError: If ``ann_file`` does not exist.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'Annotation file not found: {ann_file}')
    lines = read_text_lines(ann_file)

    def full(path: str) -> str:
        path = path if osp.isabs(path) else osp.join(video_root, path)
        return osp.realpath(path)  # one file however it is named

    result = CheckResult()
    entries = []  # (line, path, line is fine apart from the video)
    first_seen: Dict[str, Tuple[int, str]] = {}
    for lineno, line in enumerate(lines, 1):
        parsed = parse_annotation_line(line)
        if parsed is None:
            continue
        result.total += 1
        path, label = parsed
        problem = check_line(path, label, num_classes)
        repeated = problem is None and full(path) in first_seen
        if repeated:
            first, first_label = first_seen[full(path)]
            problem = (f'duplicate of line {first}' if label == first_label
                       else f'the video is also on line {first}, with '
                       f'label {first_label}')
        elif problem is None:
            first_seen[full(path)] = (lineno, label)
        if problem is not None:
            result.bad_lines.append((lineno, line.strip(), problem))
        if not repeated:  # a repeated video is checked on its first line
            entries.append((line.strip(), path, problem is None))

    bad_paths = check_paths([full(p) for _, p, _ in entries],
                            min_frames=min_frames,
                            workers=workers,
                            progress=progress,
                            desc=osp.basename(ann_file))
    for line, path, line_ok in entries:
        reason = bad_paths.get(full(path))
        if reason:
            result.bad.append((path, reason))
        elif line_ok:
            result.good_lines.append(line)
    if out_file:
        out_dir = osp.dirname(osp.abspath(out_file))
        os.makedirs(out_dir, exist_ok=True)
        with open(out_file, 'w', encoding='utf-8') as f:
            for line in result.good_lines:
                f.write(line + '\n')
        result.out_file = out_file
    return result
