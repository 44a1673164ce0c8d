"""Linear probes of a model's per-frame video features: are the class and
the direction of time of (novel-class) videos linearly decodable?

Every video of one split's annotation file (of the config's test dataset)
is decoded by the dataset's own pipeline and encoded on the query branch
(``model.encode_clips(clips, roles=('query',))``: ``[V, T, D]``, no class
text), in eval mode. Two probes, by stratified k-fold cross-validation
over videos (``tools/analysis/linear_probe.py``):

* class: all classes of the split;
* direction: for each pair of classes that are time reversals of each
  other (``pairs`` of ``meta.json`` in the data root), which member.

each from the time-averaged feature ``[D]`` (blind to frame order) and
the flattened per-frame feature ``[T*D]``. Examples::

    # the pretrained (frozen) encoder the config builds
    python tools/analysis/probe_features.py CONFIG --split test
    # a trained model
    python tools/analysis/probe_features.py CONFIG CKPT --out probe.json
"""
import argparse
import datetime
import json
import os.path as osp
import shlex
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction

# linear_probe.py, next to this file
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

SPLITS = ('test', 'val', 'train')
#: The probes' inputs: name and how ``[V, T, D]`` becomes ``[V, F]``.
INPUTS = (('time-mean', lambda f: f.mean(1)),
          ('flattened', lambda f: f.flatten(1)))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Linear probes (class, direction of time) of the '
        'per-frame query features of one split\'s videos.')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint (default: the model as the config builds it, '
        'with its pretrained CLIP)')
    parser.add_argument(
        '--split',
        choices=SPLITS,
        default='test',
        help='annotation file: the test dataset\'s, or val.txt/train.txt '
        'next to it (default: test)')
    parser.add_argument(
        '--folds', type=int, default=5, help='cross-validation folds')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the folds and clips')
    parser.add_argument(
        '--weight-decay',
        type=float,
        default=1e-2,
        help='L2 weight of the probes (default: 1e-2)')
    parser.add_argument(
        '--steps', type=int, default=100, help='L-BFGS iterations')
    parser.add_argument(
        '--batch-size', type=int, default=8, help='videos per encoder pass')
    parser.add_argument('--out', default='probe.json', help='output JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.backbone.num_frames=8')
    parser.add_argument(
        '--debug', action='store_true', help='show stack traces of errors')
    args = parser.parse_args(argv)
    for name in ('folds', 'steps', 'batch_size'):
        low = 2 if name == 'folds' else 1
        if getattr(args, name) < low:
            parser.error(f'--{name.replace("_", "-")} must be >= {low}, '
                         f'got {getattr(args, name)}')
    if args.weight_decay < 0:
        parser.error(f'--weight-decay must be >= 0, got {args.weight_decay}')
    return args


def split_ann_file(dataset_cfg: dict, split: str) -> str:
    """The annotation file of ``split``, as the dataset config names it:
    the test file itself, or ``<split>.txt`` in its directory."""
    from mafsar_mm.utils.errors import InputError
    test_file = dataset_cfg.get('ann_file')
    if not test_file:
        raise InputError('The config\'s test dataset has no ann_file '
                         '(cfg.test_dataloader.dataset.ann_file).')
    if split == 'test':
        return test_file
    return osp.join(osp.dirname(test_file), f'{split}.txt')


def build_split_dataset(cfg: Config, split: str):
    """The config's test dataset on the annotation file of ``split``
    (episode sizes set to 1 way, 1 shot, 1 query: only its video list and
    clip loader are used)."""
    from mmaction.registry import DATASETS

    from mafsar_mm.utils.errors import InputError
    dataset_cfg = cfg.test_dataloader.dataset.copy()
    ann_file = split_ann_file(dataset_cfg, split)
    root = dataset_cfg.get('data_root', '') or ''
    full = ann_file if osp.isabs(ann_file) else osp.join(root, ann_file)
    if not osp.isfile(full):
        raise InputError(f'--split {split}: no annotation file {full} '
                         f'(splits: {", ".join(SPLITS)}; val and train '
                         'are read next to the test dataset\'s ann_file).')
    dataset_cfg.update(ann_file=ann_file, n_way=1, k_shot=1, n_query=1)
    dataset = DATASETS.build(dataset_cfg)
    if not hasattr(dataset, 'videos_of') or not hasattr(
            dataset, 'load_video'):
        raise InputError(f'{type(dataset).__name__}: the probe reads a '
                         'FewShotVideoDataset (videos_of, load_video).')
    return dataset


def build_model(cfg: Config, checkpoint: Optional[str]):
    """The config's model in eval mode; ``checkpoint`` loaded with the
    checks of ``tools/test.py`` (:func:`load_model_checkpoint`)."""
    from mmaction.registry import MODELS

    from mafsar_mm.engine import load_model_checkpoint
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        hook = (cfg.get('default_hooks') or {}).get('slim_checkpoint') or {}
        load_model_checkpoint(
            model, checkpoint, check_keys=hook.get('check_keys', True))
    return model.eval()


def video_list(dataset) -> List[Tuple[str, int]]:
    """``(path, label)`` of every video of the split, by label."""
    return [(path, label) for label in sorted(dataset.videos_of)
            for path in dataset.videos_of[label]]


def encode_videos(model, dataset, videos: List[Tuple[str, int]],
                  batch_size: int, seed: int):
    """Query features ``[V, T, D]`` (float32, CPU) of the videos."""
    import torch

    from mafsar_mm.datasets.video_loading import ClipLoader
    from mafsar_mm.utils.progress import track_progress
    starts = range(0, len(videos), batch_size)
    feats = []
    with torch.no_grad():
        for start in track_progress(
                starts, len(starts), f'Encoding {len(videos)} videos',
                file=sys.stderr):
            clips = ClipLoader.stack([
                dataset.load_video(path, seed)
                for path, _ in videos[start:start + batch_size]
            ])
            feats.append(
                model.encode_clips(clips, roles=('query', ))['query'].float(
                ).cpu())
    return torch.cat(feats)


def read_pairs(data_root: str, labels: Sequence[int],
               class_names: Sequence[str]) -> Tuple[list, Optional[str]]:
    """Pairs of time-reversed classes with both members in ``labels``,
    from ``meta.json`` in ``data_root``; or ``[]`` and why not.

    Raises:
        InputError: ``meta.json`` names a label otherwise than
            ``class_names`` (another dataset's meta file).
    """
    from mafsar_mm.utils.errors import InputError
    path = osp.join(data_root, 'meta.json')
    if not osp.isfile(path):
        return [], f'no {path}'
    with open(path) as f:
        meta = json.load(f)
    for entry in meta.get('classes') or []:
        label, name = entry.get('label'), entry.get('name')
        if (isinstance(label, int) and 0 <= label < len(class_names)
                and name is not None and name != class_names[label]):
            raise InputError(
                f'{path} names label {label} {name!r} but the class-name '
                f'file names it {class_names[label]!r}: meta.json is not '
                'of this dataset.')
    present = set(labels)
    pairs = [(int(a), int(b)) for a, b in meta.get('pairs') or []
             if a in present and b in present]
    if not pairs:
        return [], f'no pairs in {path} with both classes in the split'
    return pairs, None


def run_probes(feats, labels, pairs: list, folds: int, seed: int,
               weight_decay: float, steps: int) -> List[Dict]:
    """The rows of the table: class and direction probes on each input
    (direction only with ``pairs``)."""
    import torch

    from linear_probe import pairwise_probe, probe
    labels = torch.as_tensor(labels)
    rows = []
    for name, view in INPUTS:
        x = view(feats)
        rows.append(dict(probe='class', input=name,
                         **probe(x, labels, folds, seed, weight_decay,
                                 steps)))
    for name, view in INPUTS if pairs else ():
        x = view(feats)
        rows.append(dict(probe='direction', input=name,
                         **pairwise_probe(x, labels, pairs, folds, seed,
                                          weight_decay, steps)))
    return rows


def format_table(rows: List[Dict]) -> str:
    """The rows as text: probe, input, accuracy with its 95 % CI, chance
    and number of videos."""
    header = (f'{"probe":<10} {"input":<10} {"accuracy (95% CI)":>22} '
              f'{"chance":>7} {"n":>5}')
    lines = [header, '-' * len(header)]
    for row in rows:
        low, high = row['ci95']
        acc = f'{row["accuracy"]:5.1f} ({low:5.1f}-{high:5.1f})'
        lines.append(f'{row["probe"]:<10} {row["input"]:<10} {acc:>22} '
                     f'{row["chance"]:6.1f}% {row["n"]:>5}')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the tool."""
    args = parse_args(argv)
    from mmengine.logging import print_log
    from mmengine.registry import init_default_scope

    import mafsar_mm  # noqa: F401 (registers the modules)
    from mafsar_mm.models.clip.clip_config import (
        check_config_clip_weights, merge_cfg_options)
    from mafsar_mm.utils.atomic_files import atomic_write
    from mafsar_mm.utils.config_checks import check_config
    from mafsar_mm.utils.errors import InputError
    from mafsar_mm.utils.output_paths import check_output_path
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    check_config(cfg)
    check_output_path(args.out, '--out',
                      dict(config=args.config, checkpoint=args.checkpoint))
    check_config_clip_weights(cfg)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    dataset = build_split_dataset(cfg, args.split)
    videos = video_list(dataset)
    labels = [label for _, label in videos]
    if args.folds > len(videos):
        raise InputError(
            f'--folds {args.folds} is more than the {len(videos)} videos '
            f'of {dataset.ann_file}.')
    pairs, why = read_pairs(dataset.data_root or '', sorted(set(labels)),
                            dataset.all_class_names)
    notes = []
    if why:
        notes.append(f'direction probe skipped: {why}')
        print_log(notes[-1], logger='current', level=30)
    import torch
    torch.manual_seed(args.seed)
    model = build_model(cfg, args.checkpoint)
    feats = encode_videos(model, dataset, videos, args.batch_size, args.seed)
    rows = run_probes(feats, labels, pairs, args.folds, args.seed,
                      args.weight_decay, args.steps)
    print(f'{dataset.ann_file}: {len(videos)} videos, '
          f'{len(set(labels))} classes, features {list(feats.shape[1:])} '
          f'(T, D); {args.folds}-fold cross-validation')
    print(format_table(rows))
    names = dataset.all_class_names
    result = dict(
        command=shlex.join([sys.executable, *sys.argv]) if argv is None
        else shlex.join(['probe_features.py', *argv]),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        config=args.config,
        checkpoint=args.checkpoint,
        split=args.split,
        ann_file=dataset.ann_file,
        num_videos=len(videos),
        num_classes=len(set(labels)),
        feature_shape=list(feats.shape[1:]),
        folds=args.folds,
        seed=args.seed,
        weight_decay=args.weight_decay,
        steps=args.steps,
        pairs=[[names[a], names[b]] for a, b in pairs],
        notes=notes,
        results=rows)
    atomic_write(json.dumps(result, indent=2) + '\n', args.out)
    print(f'Written to {args.out}')
    return 0


if __name__ == '__main__':
    from mafsar_mm.utils.errors import run_main
    sys.exit(run_main(main))
