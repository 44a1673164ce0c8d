"""Commands that ``compare_methods.py`` runs: training, val scoring, the
text-weight sweep and testing, and the options that pick a class split and a
training seed."""
import os
import os.path as osp
import shlex
import subprocess
import sys
from typing import List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: val episodes on which the learning rate and text weight are chosen
VAL_EPISODES = 500


def split_options(split: int) -> List[str]:
    """``--cfg-options`` that train, validate and test on class split
    ``split`` of the temporal flavour (``make_synthetic.py`` writes
    ``split{k}/{train,val,test}.txt``; split 0 is the top-level lists, the
    configs' own)."""
    if split == 0:
        return []
    return [f'{loader}_dataloader.dataset.ann_file=split{split}/{loader}.txt'
            for loader in ('train', 'val', 'test')]


def seed_options(seed: int) -> List[str]:
    """``--cfg-options`` of training seed ``seed``: the model's
    initialisation and augmentation (``randomness.seed``) and the stream of
    training episodes (the train dataset's ``seed``); seed 0 is the
    configs'. Val and test episodes never change."""
    if seed == 0:
        return []
    return [f'randomness.seed={seed}', f'train_dataloader.dataset.seed={seed}']


def data_root_options(data_root: str) -> List[str]:
    """``--cfg-options`` that read every split from ``data_root``."""
    return [f'{loader}_dataloader.dataset.data_root={data_root}'
            for loader in ('train', 'val', 'test')]


def train_command(config: str, work_dir: str, iters: int,
                  options: Sequence[str] = ()) -> List[str]:
    """``tools/train.py`` command for a run of ``iters`` episodes: the
    schedule (warm-up 1/12 of the run, then cosine decay) rescaled to
    ``iters``, one validation at the end, the last checkpoint kept."""
    return [
        'python', 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options', f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={max(1, round(iters / 12))}',
        f'param_scheduler.1.T_max={iters}', f'param_scheduler.1.end={iters}',
        f'default_hooks.checkpoint.interval={iters}', *options
    ]


def test_files(work_dir: str, episodes: int, tag: str = '') -> dict:
    """Where a test of ``episodes`` episodes writes its outputs."""
    name = f'{episodes}ep{tag}'
    return dict(
        work_dir=osp.join(work_dir, f'test_{name}'),
        metrics=osp.join(work_dir, f'metrics_{name}.json'),
        queries=osp.join(work_dir, f'queries_{name}.json'))


def test_command(config: str, checkpoint: str, work_dir: str, episodes: int,
                 options: Sequence[str] = (),
                 text_only: bool = False,
                 alpha: Optional[float] = None) -> List[str]:
    """``tools/test.py`` command that also dumps per-query predictions
    (``text_only``: predict from the text branch alone; ``alpha``: with
    this weight of the text branch, ``model.head.predict_alpha``)."""
    if text_only:
        alpha = 1.0
    files = test_files(work_dir, episodes, alpha_tag(alpha, text_only))
    extra = [f'model.head.predict_alpha={alpha}'] if alpha is not None \
        else []
    return [
        'python', 'tools/test.py', config, checkpoint, '--work-dir',
        files['work_dir'], '--num-episodes',
        str(episodes), '--dump-metrics', files['metrics'], '--cfg-options',
        f"test_evaluator.query_dump_file={files['queries']}", *options,
        *extra
    ]


def alpha_tag(alpha: Optional[float], text_only: bool = False) -> str:
    """File-name tag of a test with a given text weight."""
    if text_only:
        return '_text'
    return '' if alpha is None else f'_alpha{alpha:g}'


def alpha_sweep_command(config: str, checkpoint: str, out: str,
                        options: Sequence[str] = ()) -> List[str]:
    """``sweep_fusion_alpha.py`` command scoring the text weights on
    ``VAL_EPISODES`` val episodes."""
    cmd = [
        'python', 'tools/analysis/sweep_fusion_alpha.py', config,
        checkpoint, '--split', 'val', '--num-episodes',
        str(VAL_EPISODES), '--out', out
    ]
    return cmd + (['--cfg-options', *options] if options else [])


def run(cmd: List[str], log_file: str, threads: int = 0) -> None:
    """Run a command from the repository root, appending to a log."""
    env = dict(os.environ)
    if threads > 0:
        env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = str(threads)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH')) if p)
    full = [sys.executable] + cmd[1:] if cmd[0] == 'python' else cmd
    with open(log_file, 'a') as log:
        log.write(f'$ {shlex.join(cmd)}\n')
        log.flush()
        subprocess.run(full, cwd=ROOT, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True)


def val_command(config: str, checkpoint: str, work_dir: str,
                options: Sequence[str] = ()) -> List[str]:
    """``tools/test.py`` command scoring a model on ``VAL_EPISODES`` episodes
    of the val split of the config with ``options`` (its val annotation
    file, data root and episode seed: the episodes
    ``sweep_fusion_alpha.py --split val`` draws)."""
    from mmengine.config import Config, DictAction
    cfg = Config.fromfile(osp.join(ROOT, config))
    for option in options:
        key, value = option.split('=', 1)
        cfg.merge_from_dict({key: DictAction._parse_iterable(value)})
    val = cfg.val_dataloader.dataset
    files = test_files(work_dir, VAL_EPISODES, '_val')
    return [
        'python', 'tools/test.py', config, checkpoint, '--work-dir',
        files['work_dir'], '--num-episodes',
        str(VAL_EPISODES), '--dump-metrics', files['metrics'],
        '--cfg-options', *options,
        f'test_dataloader.dataset.ann_file={val.ann_file}',
        f'test_dataloader.dataset.data_root={val.data_root}',
        f'test_dataloader.dataset.seed={val.seed}'
    ]
