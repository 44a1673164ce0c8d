"""Find videos that cannot be used before training meets them.

:func:`check_video` opens a file with ``decord.VideoReader`` (the reader
MMAction2's ``DecordInit`` uses), reads its frame count and decodes a few
frames including the last one. :func:`check_annotation` does this for every
line of an MMAction2 annotation file in parallel and writes a clean copy
with only the usable lines.

No other ``mafsar_mm`` module is imported, so the module can be loaded on
its own.
"""
import multiprocessing
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

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
    if osp.getsize(path) == 0:
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
    if num_frames < min_frames:
        return f'too short ({num_frames} frames < {min_frames})'
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


def _progress(items: Iterable, total: int, desc: str, enabled: bool):
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm ships with open_clip
        return items
    return tqdm(items, total=total, desc=desc, unit='video')


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
        progress (bool): Show a tqdm progress bar. Defaults to True.
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
        for path, reason in _progress(results, len(jobs), desc, progress):
            if reason:
                bad[path] = reason
        return bad
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context('fork' if 'fork' in
                                      methods else 'spawn')
    chunk = max(1, min(64, len(jobs) // (workers * 8)))
    with ctx.Pool(workers) as pool:
        results = pool.imap_unordered(_check_one, jobs, chunksize=chunk)
        for path, reason in _progress(results, len(jobs), desc, progress):
            if reason:
                bad[path] = reason
    return bad


def parse_annotation_line(line: str) -> Optional[Tuple[str, str]]:
    """Split ``'<path> <label...>'`` into path and the rest.

    The path may contain spaces (Kinetics class folders do), so the label
    is taken as the last whitespace-separated field.

    Args:
        line (str): One annotation line.

    Returns:
        tuple[str, str] | None: ``(path, label text)``, or None for a
        blank line. A line with one field gives ``(path, '')``.
    """
    text = line.strip()
    if not text:
        return None
    parts = text.rsplit(maxsplit=1)
    if len(parts) == 1 or not parts[1].lstrip('-').isdigit():
        return text, ''
    return parts[0], parts[1]


@dataclass
class CheckResult:
    """Outcome of :func:`check_annotation`.

    Args:
        total (int): Annotation lines checked.
        good_lines (list[str]): The usable lines, in file order.
        bad (list[tuple[str, str]]): ``(path as written, reason)``.
        out_file (str, optional): Where the clean file was written.
    """
    total: int = 0
    good_lines: List[str] = field(default_factory=list)
    bad: List[Tuple[str, str]] = field(default_factory=list)
    out_file: Optional[str] = None


def check_annotation(ann_file: str,
                     video_root: str = '',
                     min_frames: int = 8,
                     workers: int = 1,
                     out_file: Optional[str] = None,
                     progress: bool = True) -> CheckResult:
    """Check every video of an MMAction2 annotation file.

    Args:
        ann_file (str): Lines of ``<path> <label>``; paths are relative to
            ``video_root`` unless absolute.
        video_root (str): Prefix of relative paths. Defaults to ''.
        min_frames (int): Fewest frames accepted. Defaults to 8.
        workers (int): Worker processes (0 = one per CPU). Defaults to 1.
        out_file (str, optional): Write the usable lines here. Defaults to
            None (nothing written).
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        CheckResult: Usable lines and ``(path, reason)`` of the others.
    """
    with open(ann_file, encoding='utf-8') as f:
        lines = [line.rstrip('\r\n') for line in f]
    entries = []
    for line in lines:
        parsed = parse_annotation_line(line)
        if parsed is not None:
            entries.append((line.strip(), parsed[0]))

    def full(path: str) -> str:
        return path if osp.isabs(path) else osp.join(video_root, path)

    bad_paths = check_paths([full(p) for _, p in entries],
                            min_frames=min_frames,
                            workers=workers,
                            progress=progress,
                            desc=osp.basename(ann_file))
    result = CheckResult(total=len(entries))
    for line, path in entries:
        reason = bad_paths.get(full(path))
        if reason:
            result.bad.append((path, reason))
        else:
            result.good_lines.append(line)
    if out_file:
        out_dir = osp.dirname(osp.abspath(out_file))
        os.makedirs(out_dir, exist_ok=True)
        with open(out_file, 'w', encoding='utf-8') as f:
            for line in result.good_lines:
                f.write(line + '\n')
        result.out_file = out_file
    return result
