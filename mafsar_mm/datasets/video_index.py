"""Find the videos of a split list under a user's raw video folder."""
import os
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

#: Video file extensions searched for when none is given (also the files
#: the inferencer accepts as videos).
VIDEO_EXTS = ('.mp4', '.webm', '.avi', '.mkv', '.mov', '.m4v', '.flv',
              '.mpg', '.mpeg', '.wmv', '.3gp', '.ogv')

# Kinetics clips are named '<11-char YouTube id>_<start>_<end>' by the
# ActivityNet crawler, or just '<YouTube id>' in some copies.
_KINETICS_STEM = re.compile(r'^(?P<yt>[A-Za-z0-9_-]{11})(_\d+_\d+)?$')


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
