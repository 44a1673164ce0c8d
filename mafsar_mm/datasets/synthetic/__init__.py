"""Generated few-shot video datasets whose classes differ by motion over
time, in two flavours (see :mod:`.classes`), and captioned still frames for
pretraining a tiny CLIP (see :mod:`.stills`).

Only numpy, OpenCV and the standard library are used, so the package can be
loaded without the rest of ``mafsar_mm`` (``tools/data/make_synthetic.py``
loads it by path).
"""
from . import generate
from .class_split_lists import write_class_split_lists
from .classes import (CLASS_TABLE, FLAVOURS, PAIRED_MOTIONS, SINGLE_MOTIONS,
                      SPLITS, TEMPORAL_PAIRED, TEMPORAL_SINGLE,
                      TEMPORAL_CLASS_SPLITS, TEMPORAL_TABLE, get_class_specs,
                      get_temporal_pairs, temporal_class_split, video_rng)
from .drawing import COLOURS, FPS, SHAPES, write_video
from .generate import (META_VERSION, check_settings, dataset_matches,
                       is_dataset_complete, load_meta, make_synthetic_dataset,
                       remove_dataset, summarize_classes, video_name)
from .motions import motion_trajectory
from .render import render_frames
from .styles import HELD_OUT_STYLES, STYLE_FAMILIES, check_style
from .temporal_motions import temporal_trajectory

__all__ = [
    'generate', 'CLASS_TABLE', 'FLAVOURS', 'PAIRED_MOTIONS',
    'SINGLE_MOTIONS', 'SPLITS', 'TEMPORAL_PAIRED', 'TEMPORAL_SINGLE',
    'TEMPORAL_TABLE', 'TEMPORAL_CLASS_SPLITS', 'get_class_specs',
    'get_temporal_pairs', 'temporal_class_split', 'video_rng',
    'COLOURS', 'FPS', 'SHAPES', 'write_video', 'META_VERSION',
    'check_settings', 'dataset_matches', 'is_dataset_complete', 'load_meta',
    'make_synthetic_dataset', 'remove_dataset', 'summarize_classes',
    'video_name', 'motion_trajectory', 'render_frames', 'temporal_trajectory',
    'HELD_OUT_STYLES', 'STYLE_FAMILIES', 'check_style',
    'write_class_split_lists'
]
