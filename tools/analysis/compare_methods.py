"""Train and test every method and the MA-FSAR ablations on the synthetic
data with one budget, and write ``docs/synthetic_comparison.md``.

Each row is trained with ``tools/train.py`` for the same number of
episodes (same schedule, one validation at the end, last checkpoint) at
each learning rate of ``--lrs``, scored on ``VAL_EPISODES`` val episodes
(text-reading models with their best text weight), and the candidate best
on val is tested with ``tools/test.py`` on the same fixed test episodes
(methods that read text also on text alone); the ablations and the other
MA-FSAR matchers take the rate chosen for MA-FSAR + OTAM. Nothing is
chosen on the test classes. The test dumps every query's
prediction, from which the page adds accuracies restricted to the
*order-only* classes (classes whose time-reversed partner is also in the
episode); see ``comparison_report.py``.

Example (one flavour per process; run both at once on 2 cores)::

    python tools/analysis/compare_methods.py --flavour temporal \\
        --iters 300 --episodes 2000 --shots 1

Runs already finished in ``--work-dir`` are not repeated (``--force``
repeats them) and a trained model is reused when only ``--episodes``
changes, so an interrupted comparison resumes where it stopped. The page
is rewritten after every run from the results of every flavour.
"""
import argparse
import fcntl
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from comparison_report import (best_on_val, load_pairs,  # noqa: E402
                               order_breakdown, write_report)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: flavour -> (config suffix, data root)
FLAVOURS = {
    'spatial': ('synthetic', 'data/synthetic'),
    'temporal': ('synthetic-temporal', 'data/synthetic_temporal'),
}

_MAFSAR = 'configs/mafsar/mafsar_vit-tiny_5w{k}s_{data}.py'
_NO_FGMA = ('model.backbone.with_gta=False', 'model.backbone.with_lma=False',
            'model.backbone.with_joint=False',
            'model.backbone.temporal_pos_embed=False')
_NO_TPCM = ('model.head.neck=None', )

#: key -> (label, config template, extra --cfg-options, test text alone)
METHODS = {
    'protonet': ('ProtoNet (full FT)',
                 'configs/baselines/protonet/protonet_vit-tiny_5w{k}s_'
                 '{data}.py', (), False),
    'otam': ('OTAM (full FT)',
             'configs/baselines/otam/otam_vit-tiny_5w{k}s_{data}.py', (),
             False),
    'bimhm': ('Bi-MHM (full FT)',
              'configs/baselines/bimhm/bimhm_vit-tiny_5w{k}s_{data}.py', (),
              False),
    'trx': ('TRX (full FT)',
            'configs/baselines/trx/trx_vit-tiny_5w{k}s_{data}.py', (),
            False),
    'clipfsar': ('CLIP-FSAR (full FT + text, OTAM)',
                 'configs/baselines/clipfsar/clipfsar_vit-tiny_5w{k}s_'
                 '{data}.py', (), True),
    'mafsar_otam': ('MA-FSAR + OTAM', _MAFSAR, (), True),
    'mafsar_bimhm': ('MA-FSAR + Bi-MHM',
                     'configs/mafsar/mafsar_vit-tiny_5w{k}s_{data}_bimhm.py',
                     (), False),
    'mafsar_trx': ('MA-FSAR + TRX',
                   'configs/mafsar/mafsar_vit-tiny_5w{k}s_{data}_trx.py', (),
                   False),
    'mafsar_proto': ('MA-FSAR + ProtoNet',
                     'configs/mafsar/mafsar_vit-tiny_5w{k}s_{data}_proto.py',
                     (), False),
    # paper Table 3 (frozen CLIP + OTAM; + TPCM; + FgMA; both = MA-FSAR)
    'abl_none': ('ablation: frozen CLIP + OTAM (no FgMA, no TPCM)', _MAFSAR,
                 _NO_FGMA + _NO_TPCM, True),
    'abl_tpcm': ('ablation: + TPCM only', _MAFSAR, _NO_FGMA, False),
    'abl_fgma': ('ablation: + FgMA only', _MAFSAR, _NO_TPCM, False),
    # each FgMA part turned off in turn
    'abl_no_gta': ('ablation: MA-FSAR without GTA', _MAFSAR,
                   ('model.backbone.with_gta=False',
                    'model.backbone.temporal_pos_embed=False'), False),
    'abl_no_lma': ('ablation: MA-FSAR without LMA/LSTA', _MAFSAR,
                   ('model.backbone.with_lma=False', ), False),
    'abl_no_joint': ('ablation: MA-FSAR without the joint adapter', _MAFSAR,
                     ('model.backbone.with_joint=False', ), False),
    'abl_no_pos': ('ablation: MA-FSAR without temporal position (GTA '
                   'order-blind)', _MAFSAR,
                   ('model.backbone.temporal_pos_embed=False', ), False),
}

#: methods whose head has a text branch: their text weight in the
#: prediction is chosen on val (``choose_alpha``)
TEXT_BRANCH = frozenset(
    k for k, v in METHODS.items() if '/mafsar/' in v[1] or
    '/clipfsar/' in v[1])
#: val episodes on which the learning rate and text weight are chosen
VAL_EPISODES = 500
#: learning rate of every synthetic config
#: (configs/_base_/schedules/adamw_synthetic.py)
CONFIG_LR = 1e-3
#: learning rates compared on val (``--lrs``)
LR_GRID = (1e-3, 1e-4)
#: rows whose learning rate is chosen on val; the others (MA-FSAR with
#: another matcher, the ablations) train at the rate chosen for
#: ``LR_SOURCE``, as an ablation keeps the settings of the full model
LR_ON_VAL = ('protonet', 'otam', 'bimhm', 'trx', 'clipfsar', 'mafsar_otam')
LR_SOURCE = 'mafsar_otam'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--flavour', default='temporal',
                        choices=list(FLAVOURS))
    parser.add_argument('--iters', type=int, default=300,
                        help='training episodes per row (schedule rescaled '
                        'to it)')
    parser.add_argument('--episodes', type=int, default=2000,
                        help='test episodes')
    parser.add_argument('--shots', type=int, nargs='+', default=[1, 5],
                        choices=[1, 5])
    parser.add_argument('--methods', nargs='+', default=list(METHODS),
                        choices=list(METHODS))
    parser.add_argument('--lrs', type=float, nargs='+', default=list(LR_GRID),
                        help='learning rates compared on val for the rows '
                        f'{", ".join(LR_ON_VAL)}')
    parser.add_argument('--work-dir', default='work_dirs/compare_methods')
    parser.add_argument('--out', default='docs/synthetic_comparison.md')
    parser.add_argument('--results', default='docs/synthetic_comparison.json',
                        help='finished rows of every flavour (kept in the '
                        'repository so that an interrupted table resumes)')
    parser.add_argument('--findings', default=None,
                        help='markdown file whose text goes after the '
                        'tables')
    parser.add_argument('--threads', type=int, default=1,
                        help='OMP_NUM_THREADS of the runs (0 leaves the '
                        'environment alone)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra key=value options of every train and '
                        'test command')
    parser.add_argument('--force', action='store_true',
                        help='repeat finished runs')
    parser.add_argument('--table-only', action='store_true',
                        help='only rewrite the page from finished runs')
    return parser.parse_args(argv)


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
    of the config's val split (its val annotation file and episode seed,
    the episodes ``sweep_fusion_alpha.py --split val`` draws)."""
    from mmengine.config import Config
    val = Config.fromfile(osp.join(ROOT, config)).val_dataloader.dataset
    files = test_files(work_dir, VAL_EPISODES, '_val')
    return [
        'python', 'tools/test.py', config, checkpoint, '--work-dir',
        files['work_dir'], '--num-episodes',
        str(VAL_EPISODES), '--dump-metrics', files['metrics'],
        '--cfg-options', f'test_dataloader.dataset.ann_file={val.ann_file}',
        f'test_dataloader.dataset.seed={val.seed}', *options
    ]


def load_results(path: str) -> Dict[tuple, dict]:
    """Finished runs of every flavour, from the results file."""
    if not osp.exists(path):
        return {}
    with open(path) as f:
        return {result_key(r): r for r in json.load(f)}


def result_key(r: dict) -> tuple:
    return (r['flavour'], r['key'], r['shots'], r['iters'], r['episodes'],
            r['lr'])


def trained_checkpoint(results: Dict[tuple, dict], flavour: str, key: str,
                       shots: int, iters: int,
                       lr: float = CONFIG_LR) -> Optional[dict]:
    """A finished run of the same model and budget (tested on another
    number of episodes) whose checkpoint still exists."""
    for r in results.values():
        if (r['flavour'], r['key'], r['shots'], r['iters'],
                r['lr']) == (flavour, key, shots, iters, lr) and osp.exists(
                    r['checkpoint']):
            return r
    return None


def chosen(candidates: List[dict]) -> Optional[dict]:
    """The candidate (one per learning rate) best on val
    (``comparison_report.best_on_val``); None until every candidate has
    been scored on val."""
    if not candidates or any('val' not in c for c in candidates):
        return None
    return best_on_val(candidates)


def source_lr(args, results: Dict[tuple, dict], shots: int) -> float:
    """The learning rate chosen on val for ``LR_SOURCE`` (read from disk
    too: another process may have run it)."""
    merged = {**load_results(args.results), **results}
    cands = [
        merged.get((args.flavour, LR_SOURCE, shots, args.iters,
                    args.episodes, lr)) for lr in args.lrs
    ]
    best = chosen([c for c in cands if c is not None]) if all(cands) \
        else None
    if best is None:
        sys.exit(f'error: the ablations and the other MA-FSAR matchers '
                 f'train at the learning rate chosen on val for '
                 f'{LR_SOURCE}, which is not finished for {args.flavour} '
                 f'{shots}-shot; run --methods {LR_SOURCE} first')
    return best['lr']


def test_and_read(config, checkpoint, work_dir, episodes, options,
                  partner, log_file, threads, text_only=False,
                  alpha=None) -> dict:
    """Run one test and read its metrics and order breakdown."""
    cmd = test_command(config, checkpoint, work_dir, episodes, options,
                       text_only, alpha)
    run(cmd, log_file, threads)
    files = test_files(work_dir, episodes, alpha_tag(alpha, text_only))
    with open(files['metrics']) as f:
        metrics = json.load(f)
    with open(files['queries']) as f:
        episodes_dump = json.load(f)['episodes']
    return dict(acc=metrics['fewshot/acc'], ci95=metrics['fewshot/ci95'],
                breakdown=order_breakdown(episodes_dump, partner), cmd=cmd)


def score_on_val(args, row: dict) -> dict:
    """Val accuracy of a trained candidate on ``VAL_EPISODES`` episodes;
    for a text-reading model, of its best text weight (``alpha``)."""
    config, options = row['config'], row['options']
    work_dir, checkpoint = row['work_dir'], row['checkpoint']
    log_file = osp.join(work_dir, 'commands.log')
    if row['key'] not in TEXT_BRANCH:
        cmd = val_command(config, checkpoint, work_dir, options)
        run(cmd, log_file, args.threads)
        with open(test_files(work_dir, VAL_EPISODES, '_val')['metrics']) as f:
            metrics = json.load(f)
        return dict(acc=metrics['fewshot/acc'], ci95=metrics['fewshot/ci95'],
                    alpha=None, cmd=cmd)
    out = osp.join(work_dir, f'alpha_val_{VAL_EPISODES}ep.json')
    cmd = alpha_sweep_command(config, checkpoint, out, options)
    run(cmd, log_file, args.threads)
    with open(out) as f:
        sweep = json.load(f)
    best = next(r for r in sweep['rows'] if r['alpha'] == sweep['best'])
    return dict(acc=best['acc'], ci95=best['ci95'], alpha=sweep['best'],
                configured=sweep['configured'], rows=sweep['rows'], cmd=cmd)


def candidate(args, key: str, shots: int, lr: float,
              results: Dict[tuple, dict]) -> dict:
    """Train (or reuse) one row at one learning rate and score it on
    val."""
    label, template, options, _ = METHODS[key]
    options = tuple(options) + tuple(args.cfg_options)
    if lr != CONFIG_LR:
        options += (f'optim_wrapper.optimizer.lr={lr:g}', )
    rkey = (args.flavour, key, shots, args.iters, args.episodes, lr)
    row = None if args.force else results.get(rkey)
    stamp = time.strftime('%H:%M:%S')
    if row is None:
        done = None if args.force else trained_checkpoint(
            results, args.flavour, key, shots, args.iters, lr)
        row = dict(flavour=args.flavour, key=key, label=label, shots=shots,
                   lr=lr, config=template.format(
                       k=shots, data=FLAVOURS[args.flavour][0]),
                   options=list(options), iters=args.iters,
                   episodes=args.episodes, threads=args.threads)
        if done is not None:
            print(f'[{stamp}] reuse {label}, {shots}-shot, lr {lr:g}',
                  flush=True)
            row.update({k: done[k] for k in (
                'work_dir', 'checkpoint', 'train_cmd', 'train_minutes',
                'val') if k in done})
        else:
            name = f'{key}_5w{shots}s_{args.iters}it' + (
                f'_lr{lr:g}' if lr != CONFIG_LR else '')
            row['work_dir'] = osp.join(args.work_dir, args.flavour, name)
            os.makedirs(row['work_dir'], exist_ok=True)
            row['train_cmd'] = train_command(row['config'], row['work_dir'],
                                             args.iters, options)
            print(f'[{stamp}] train {label}, {shots}-shot, lr {lr:g}',
                  flush=True)
            start = time.time()
            run(row['train_cmd'], osp.join(row['work_dir'], 'commands.log'),
                args.threads)
            row['train_minutes'] = (time.time() - start) / 60
            row['checkpoint'] = osp.join(row['work_dir'],
                                         f'iter_{args.iters}.pth')
    if 'val' not in row:
        row['val'] = score_on_val(args, row)
        alpha = row['val']['alpha']
        print(f"    val {row['val']['acc']:.2f} %" +
              ('' if alpha is None else f' (text weight {alpha:g})'),
              flush=True)
    return row


def test_row(args, row: dict, partner: Dict[str, str]) -> None:
    """Test the chosen candidate with its val-chosen text weight, and on
    text alone if it reads text."""
    config, options = row['config'], row['options']
    work_dir, checkpoint = row['work_dir'], row['checkpoint']
    log_file = osp.join(work_dir, 'commands.log')
    common = (config, checkpoint, work_dir, args.episodes, options, partner,
              log_file, args.threads)
    alpha = row['val']['alpha']
    with_text = METHODS[row['key']][3] or alpha == 1.0
    text = test_and_read(*common, text_only=True) if with_text else None
    test = text if alpha == 1.0 else test_and_read(*common, alpha=alpha)
    row.update(acc=test['acc'], ci95=test['ci95'],
               breakdown=test['breakdown'], test_cmd=test['cmd'],
               text_only=text)
    print(f"    test {test['acc']:.2f} +/- {test['ci95']:.2f} %" +
          (f", text only {text['acc']:.2f} %" if text else ''), flush=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    os.chdir(ROOT)
    data_root = FLAVOURS[args.flavour][1]
    if not osp.exists(osp.join(data_root, 'meta.json')):
        subprocess.run([
            sys.executable, 'tools/data/make_synthetic.py', '--flavour',
            args.flavour, '--out', data_root
        ], check=True)
    partner = load_pairs(data_root)
    results = load_results(args.results)
    findings = ''
    if args.findings:
        with open(args.findings) as f:
            findings = f.read()

    mine = set()  # rows this process made or changed

    def save() -> None:
        # several processes may run rows at once: merge under a lock, taking
        # from this process only the rows it made or changed
        with open(args.results + '.lock', 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            merged = load_results(args.results)
            merged.update({k: results[k] for k in mine})
            rows = sorted(merged.values(), key=lambda r: [
                str(v) for v in result_key(r)])
            with open(args.results + '.tmp', 'w') as f:
                json.dump(rows, f, indent=1)
            os.replace(args.results + '.tmp', args.results)
            write_report(rows, args.out, list(METHODS),
                         {k: v[1] for k, v in FLAVOURS.items()}, findings,
                         LR_SOURCE, LR_ON_VAL)

    def keep(row: dict) -> None:
        results[result_key(row)] = row
        mine.add(result_key(row))
        save()

    # the source of the shared learning rate first
    methods = sorted(args.methods, key=lambda k: k != LR_SOURCE)
    if not args.table_only:
        for shots in args.shots:
            for key in methods:
                lrs = args.lrs if key in LR_ON_VAL else [
                    source_lr(args, results, shots)]
                cands = []
                for lr in lrs:
                    row = candidate(args, key, shots, lr, results)
                    keep(row)
                    cands.append(row)
                best = chosen(cands)
                if 'acc' not in best:
                    print(f"    chosen on val: lr {best['lr']:g}",
                          flush=True)
                    test_row(args, best, partner)
                    keep(best)
    save()


if __name__ == '__main__':
    main()
