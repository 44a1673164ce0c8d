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

No single class split decides: ``--splits 0 1 2 --seeds 0 1`` runs every
row on the temporal flavours' three class splits (``make_synthetic.py``
writes their lists; the test classes rotate) with two training seeds, the
learning rate chosen on each split's val at the first seed; the page then
gives each row's mean, standard deviation, range and per-split means over
those runs before the table of every run. ``--flavour temporal-checkers``
is the temporal classes drawn on a background family the tiny CLIP's
pretraining never shows.

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
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from comparison_commands import (ROOT, VAL_EPISODES,  # noqa: E402,F401
                                 alpha_sweep_command, alpha_tag,
                                 data_root_options, run, seed_options,
                                 split_options, test_command, test_files,
                                 train_command, val_command)
from comparison_report import (best_on_val, load_pairs,  # noqa: E402
                               order_breakdown, write_report)
from comparison_rows import (LR_GRID, LR_ON_VAL, LR_SOURCE,  # noqa: E402
                             METHODS, TEXT_BRANCH)

#: flavour -> (config suffix, data root)
FLAVOURS = {
    'spatial': ('synthetic', 'data/synthetic'),
    'temporal': ('synthetic-temporal', 'data/synthetic_temporal'),
    # the temporal classes in a look the tiny CLIP's pretraining never saw
    'temporal-checkers': ('synthetic-temporal',
                          'data/synthetic_temporal_checkers'),
}
#: flavour -> make_synthetic.py arguments
MAKE_ARGS = {
    'spatial': ['--flavour', 'spatial'],
    'temporal': ['--flavour', 'temporal'],
    'temporal-checkers': ['--flavour', 'temporal', '--style', 'checkers'],
}
#: flavours whose videos have several class splits (``--splits``)
SPLIT_FLAVOURS = ('temporal', 'temporal-checkers')


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
    parser.add_argument('--splits', type=int, nargs='+', default=[0],
                        help='class splits of the temporal flavours '
                        '(0, 1, 2; make_synthetic.py writes them); the '
                        'learning rate is chosen on each split\'s val')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='training seeds; the learning rate is chosen '
                        'at the first and kept for the others')
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


def load_results(path: str) -> Dict[tuple, dict]:
    """Finished runs of every flavour, from the results file."""
    if not osp.exists(path):
        return {}
    with open(path) as f:
        return {result_key(r): r for r in json.load(f)}


def result_key(r: dict) -> tuple:
    return (r['flavour'], r['key'], r['shots'], r['iters'], r['episodes'],
            r['lr'], r.get('split', 0), r.get('seed', 0))


def trained_checkpoint(results: Dict[tuple, dict], flavour: str, key: str,
                       shots: int, iters: int, lr: float,
                       split: int = 0, seed: int = 0) -> Optional[dict]:
    """A finished run of the same model and budget (tested on another
    number of episodes) whose checkpoint still exists."""
    for r in results.values():
        if (r['flavour'], r['key'], r['shots'], r['iters'], r['lr'],
                r.get('split', 0), r.get('seed', 0)) == (
                    flavour, key, shots, iters, lr, split,
                    seed) and osp.exists(r['checkpoint']):
            return r
    return None


def chosen(candidates: List[dict]) -> Optional[dict]:
    """The candidate (one per learning rate) best on val
    (``comparison_report.best_on_val``); None until every candidate has
    been scored on val."""
    if not candidates or any('val' not in c for c in candidates):
        return None
    return best_on_val(candidates)


def source_lr(args, results: Dict[tuple, dict], shots: int,
              split: int = 0) -> float:
    """The learning rate chosen on val for ``LR_SOURCE`` on class split
    ``split`` at the first seed (read from disk too: another process may
    have run it)."""
    merged = {**load_results(args.results), **results}
    cands = [
        merged.get((args.flavour, LR_SOURCE, shots, args.iters,
                    args.episodes, lr, split, args.seeds[0]))
        for lr in args.lrs
    ]
    best = chosen([c for c in cands if c is not None]) if all(cands) \
        else None
    if best is None:
        sys.exit(f'error: the ablations and the other MA-FSAR matchers '
                 f'train at the learning rate chosen on val for '
                 f'{LR_SOURCE}, which is not finished for {args.flavour} '
                 f'{shots}-shot split {split}; run --methods {LR_SOURCE} '
                 'first')
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


def run_options(args, split: int = 0, seed: int = 0) -> tuple:
    """The flavour's data root, the class split and the seed as
    ``--cfg-options``, then ``args.cfg_options``."""
    data_root = FLAVOURS[args.flavour][1]
    default = FLAVOURS['temporal' if args.flavour in SPLIT_FLAVOURS else
                       'spatial'][1]
    return tuple(
        (data_root_options(data_root) if data_root != default else []) +
        split_options(split) + seed_options(seed) + list(args.cfg_options))


def candidate(args, key: str, shots: int, lr: float,
              results: Dict[tuple, dict], split: int = 0,
              seed: int = 0) -> dict:
    """Train (or reuse) one row at one learning rate, class split and seed
    and score it on val."""
    label, template, options, _ = METHODS[key]
    # the rate always on the command line: a config carries the rate val
    # chose for it, which need not be this candidate's
    options = tuple(options) + run_options(args, split, seed) + (
        f'optim_wrapper.optimizer.lr={lr:g}', )
    rkey = (args.flavour, key, shots, args.iters, args.episodes, lr, split,
            seed)
    row = None if args.force else results.get(rkey)
    stamp = time.strftime('%H:%M:%S')
    if row is None:
        done = None if args.force else trained_checkpoint(
            results, args.flavour, key, shots, args.iters, lr, split, seed)
        row = dict(flavour=args.flavour, key=key, label=label, shots=shots,
                   lr=lr, split=split, seed=seed, config=template.format(
                       k=shots, data=FLAVOURS[args.flavour][0]),
                   options=list(options), iters=args.iters,
                   episodes=args.episodes, threads=args.threads)
        what = f'{label}, {shots}-shot, split {split}, seed {seed}, lr {lr:g}'
        if done is not None:
            print(f'[{stamp}] reuse {what}', flush=True)
            row.update({k: done[k] for k in (
                'work_dir', 'checkpoint', 'train_cmd', 'train_minutes',
                'val') if k in done})
        else:
            name = f'{key}_5w{shots}s_{args.iters}it_lr{lr:g}' + (
                f'_split{split}' if split else '') + (
                    f'_seed{seed}' if seed else '')
            row['work_dir'] = osp.join(args.work_dir, args.flavour, name)
            os.makedirs(row['work_dir'], exist_ok=True)
            row['train_cmd'] = train_command(row['config'], row['work_dir'],
                                             args.iters, options)
            print(f'[{stamp}] train {what}', flush=True)
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


def run_row(args, key: str, shots: int, split: int,
            results: Dict[tuple, dict], keep, partner: Dict[str, str]
            ) -> None:
    """One method on one class split: its learning rate chosen on val at
    the first seed, the best candidate tested; the other seeds trained at
    that rate and tested (each with its text weight chosen on val)."""
    lrs = args.lrs if key in LR_ON_VAL else [
        source_lr(args, results, shots, split)]
    cands = []
    for lr in lrs:
        row = candidate(args, key, shots, lr, results, split, args.seeds[0])
        keep(row)
        cands.append(row)
    best = chosen(cands)
    for seed in args.seeds:
        row = best if seed == args.seeds[0] else candidate(
            args, key, shots, best['lr'], results, split, seed)
        if 'acc' not in row:
            print(f"    test at lr {row['lr']:g} (chosen on val), seed "
                  f'{seed}', flush=True)
            test_row(args, row, partner)
        keep(row)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    os.chdir(ROOT)
    data_root = FLAVOURS[args.flavour][1]
    if args.flavour not in SPLIT_FLAVOURS and args.splits != [0]:
        sys.exit(f'error: --splits: the {args.flavour} flavour has one '
                 f'class split (0); the temporal flavours '
                 f'({", ".join(SPLIT_FLAVOURS)}) have 0, 1 and 2')
    # makes the dataset, or only the other splits' lists if it exists
    subprocess.run([
        sys.executable, 'tools/data/make_synthetic.py',
        *MAKE_ARGS[args.flavour], '--out', data_root
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
                for split in args.splits:
                    run_row(args, key, shots, split, results, keep, partner)
    save()


if __name__ == '__main__':
    main()
