"""Lists of the temporal flavour's other class splits
(:data:`.classes.TEMPORAL_CLASS_SPLITS`), written next to a generated
dataset's own lists."""
import os
import os.path as osp
from typing import List

from .classes import (SPLITS, TEMPORAL_CLASS_SPLITS, get_class_specs,
                      temporal_class_split)
from .drawing import write_text


def write_class_split_lists(out_dir: str, flavour: str) -> List[str]:
    """Write the lists of the temporal flavour's other class splits.

    Split ``k >= 1`` of :data:`.classes.TEMPORAL_CLASS_SPLITS` gets
    ``split{k}/{train,val,test}.txt`` next to the split-0 lists, with the
    same videos and labels (a class only changes split), so configs select
    it with ``ann_file='split1/train.txt'``. Made from the split-0 lists, so
    it also serves datasets generated before the splits existed.

    Args:
        out_dir (str): A complete dataset directory.
        flavour (str): Its flavour; the spatial flavour has one split.

    Returns:
        list[str]: The folders written (empty for the spatial flavour).
    """
    if flavour != 'temporal':
        return []
    specs = get_class_specs(flavour)
    lines = []
    for split in SPLITS:
        with open(osp.join(out_dir, f'{split}.txt'), encoding='utf-8') as f:
            lines += [line for line in f if line.strip()]
    written = []
    for k in range(1, len(TEMPORAL_CLASS_SPLITS)):
        of_motion = temporal_class_split(k)
        by_split = {split: [] for split in SPLITS}
        for line in lines:
            motion = specs[int(line.rsplit(maxsplit=1)[1])]['motion']
            by_split[of_motion[motion]].append(line)
        folder = osp.join(out_dir, f'split{k}')
        os.makedirs(folder, exist_ok=True)
        for split in SPLITS:
            write_text(
                osp.join(folder, f'{split}.txt'), ''.join(by_split[split]))
        written.append(folder)
    return written
