"""Train and test every method on the synthetic data with one budget and
write the comparison table (docs/synthetic_comparison.md).

Each method is trained with ``tools/train.py`` for the same number of
episodes (same schedule, no validation, last checkpoint) and tested with
``tools/test.py`` on the same fixed test episodes. Besides the usual
accuracy +/- 95% CI over episodes, the test dumps every query's
prediction (``FewShotAccuracy(query_dump_file=...)``) and the table adds
two accuracies restricted to the *order-only* classes of the synthetic
data (classes with a temporal partner that differs only in the order of
the frames, ``pairs`` in ``data/synthetic/meta.json``):

- *pair classes*: queries of a class that has a temporal partner;
- *partner in episode*: queries whose temporal partner is also one of the
  episode's N classes (the only queries a method that ignores frame order
  cannot tell apart), with the share of them predicted as the partner.

Both are per-episode accuracies over the selected queries, averaged over
the episodes that have such a query (95% CI as for the main accuracy).

Example (about 1 hour on 2 shared CPU cores)::

    nice -n 10 python tools/analysis/compare_methods.py --iters 300 \\
        --episodes 300

Runs already finished in ``--work-dir`` with the same budget are not
repeated (``--force`` repeats them); runs of other budgets stay in the
table as their own rows. The table is rewritten after every run, so an
interrupted comparison leaves a partial table.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CI_Z = 1.96

# (key, label in the table, config with {k} for the shots)
METHODS = [
    ('protonet', 'ProtoNet (CLIP visual, full FT)',
     'configs/baselines/protonet/protonet_vit-tiny_5w{k}s_synthetic.py'),
    ('otam', 'OTAM (CLIP visual, full FT)',
     'configs/baselines/otam/otam_vit-tiny_5w{k}s_synthetic.py'),
    ('bimhm', 'Bi-MHM (CLIP visual, full FT)',
     'configs/baselines/bimhm/bimhm_vit-tiny_5w{k}s_synthetic.py'),
    ('trx', 'TRX (CLIP visual, full FT)',
     'configs/baselines/trx/trx_vit-tiny_5w{k}s_synthetic.py'),
    ('clipfsar', 'CLIP-FSAR (full FT + text, OTAM)',
     'configs/baselines/clipfsar/clipfsar_vit-tiny_5w{k}s_synthetic.py'),
    ('mafsar_otam', 'MA-FSAR + OTAM',
     'configs/mafsar/mafsar_vit-tiny_5w{k}s_synthetic.py'),
    ('mafsar_bimhm', 'MA-FSAR + Bi-MHM',
     'configs/mafsar/mafsar_vit-tiny_5w{k}s_synthetic_bimhm.py'),
    ('mafsar_trx', 'MA-FSAR + TRX',
     'configs/mafsar/mafsar_vit-tiny_5w{k}s_synthetic_trx.py'),
    ('mafsar_proto', 'MA-FSAR + ProtoNet',
     'configs/mafsar/mafsar_vit-tiny_5w{k}s_synthetic_proto.py'),
]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options.

    Args:
        argv (Sequence[str], optional): Arguments. Defaults to None
            (``sys.argv``).

    Returns:
        argparse.Namespace: The options.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--iters',
        type=int,
        default=300,
        help='training episodes per method (schedule rescaled to it)')
    parser.add_argument(
        '--episodes', type=int, default=300, help='test episodes')
    parser.add_argument(
        '--shots', type=int, nargs='+', default=[1, 5], choices=[1, 5])
    parser.add_argument(
        '--methods',
        nargs='+',
        default=[m[0] for m in METHODS],
        choices=[m[0] for m in METHODS])
    parser.add_argument('--work-dir', default='work_dirs/compare_methods')
    parser.add_argument('--out', default='docs/synthetic_comparison.md')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='OMP_NUM_THREADS of the runs (1 is fastest on a busy CPU; '
        '0 leaves the environment alone)')
    parser.add_argument(
        '--force', action='store_true', help='repeat finished runs')
    parser.add_argument(
        '--table-only',
        action='store_true',
        help='only rewrite the table from finished runs')
    return parser.parse_args(argv)


def train_command(config: str, work_dir: str, iters: int) -> List[str]:
    """``tools/train.py`` command for a run of ``iters`` episodes.

    The schedule (warm-up 1/12 of the run, then cosine decay, as in the
    600-episode quickstart) is rescaled to ``iters``, validation is
    skipped and the last checkpoint is kept.

    Args:
        config (str): Config path.
        work_dir (str): The run's directory.
        iters (int): Training episodes.

    Returns:
        list[str]: The command.
    """
    return [
        'python', 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options', f'train_cfg.max_iters={iters}',
        f'train_cfg.val_begin={iters + 1}',
        f'param_scheduler.0.end={max(1, round(iters / 12))}',
        f'param_scheduler.1.T_max={iters}', f'param_scheduler.1.end={iters}',
        f'default_hooks.checkpoint.interval={iters}'
    ]


def test_files(work_dir: str, episodes: int) -> Dict[str, str]:
    """Where a test of ``episodes`` episodes writes its outputs.

    Args:
        work_dir (str): The run's directory.
        episodes (int): Test episodes.

    Returns:
        dict[str, str]: ``work_dir`` (of tools/test.py), ``metrics`` and
        ``queries`` (the JSON dumps).
    """
    tag = f'{episodes}ep'
    return dict(
        work_dir=osp.join(work_dir, f'test_{tag}'),
        metrics=osp.join(work_dir, f'metrics_{tag}.json'),
        queries=osp.join(work_dir, f'queries_{tag}.json'))


def test_command(config: str, checkpoint: str, work_dir: str,
                 episodes: int) -> List[str]:
    """``tools/test.py`` command that also dumps per-query predictions.

    Args:
        config (str): Config path.
        checkpoint (str): Checkpoint path.
        work_dir (str): The run's directory.
        episodes (int): Test episodes.

    Returns:
        list[str]: The command.
    """
    files = test_files(work_dir, episodes)
    return [
        'python', 'tools/test.py', config, checkpoint, '--work-dir',
        files['work_dir'], '--num-episodes',
        str(episodes), '--dump', files['metrics'], '--cfg-options',
        f"test_evaluator.query_dump_file={files['queries']}"
    ]


def trained_run(results: Dict[tuple, dict], key: str, shots: int,
                iters: int) -> Optional[dict]:
    """A finished result of the same method, shots and training budget
    (tested on another number of episodes) whose checkpoint still exists:
    its training is reused."""
    for r in results.values():
        if (r['key'], r['shots'], r['iters']) != (key, shots, iters):
            continue
        ckpt = next((a for a in r['test_cmd'] if a.endswith('.pth')), None)
        if ckpt and osp.exists(ckpt):
            return dict(r, checkpoint=ckpt)
    return None


def run(cmd: List[str], log_file: str, threads: int = 0) -> None:
    """Run a command from the repository root, appending to a log.

    Args:
        cmd (list[str]): The command (``python`` is this interpreter).
        log_file (str): Log path.
        threads (int): ``OMP_NUM_THREADS`` for the command; 0 keeps the
            environment's. Defaults to 0.
    """
    env = dict(os.environ)
    if threads > 0:
        env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = str(threads)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH')) if p)
    full = [sys.executable] + cmd[1:] if cmd[0] == 'python' else cmd
    with open(log_file, 'a') as log:
        log.write(f'$ {shlex.join(cmd)}\n')
        log.flush()
        subprocess.run(
            full,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True)


def load_pairs(data_root: str) -> Dict[str, str]:
    """Temporal partner of every paired class, by class name.

    Args:
        data_root (str): The synthetic dataset (with ``meta.json``).

    Returns:
        dict[str, str]: ``{name: partner name}``.
    """
    with open(osp.join(data_root, 'meta.json')) as f:
        meta = json.load(f)
    names = {c['label']: c['name'] for c in meta['classes']}
    partner = {}
    for a, b in meta['pairs']:
        partner[names[a]] = names[b]
        partner[names[b]] = names[a]
    return partner


def mean_ci(values: Sequence[float]) -> tuple:
    """Mean and ``1.96 * std / sqrt(n)`` in %, or NaNs when empty."""
    if len(values) == 0:
        return float('nan'), float('nan')
    acc = np.asarray(values, dtype=np.float64)
    return (100 * float(acc.mean()),
            100 * float(CI_Z * acc.std() / np.sqrt(acc.size)))


def order_breakdown(episodes: List[dict], partner: Dict[str, str]) -> dict:
    """Accuracies restricted to the order-only classes.

    Args:
        episodes (list[dict]): Records of ``FewShotAccuracy``'s query dump.
        partner (dict[str, str]): Temporal partner by class name.

    Returns:
        dict: ``pair``/``partner`` (mean, ci95, episodes, queries),
        ``to_partner``: % of partner-in-episode queries predicted as the
        partner, and ``order``: of the partner-in-episode queries
        predicted as their class or its partner, % predicted as their
        class (mean, binomial ci95, queries); 50 % is blind to frame
        order.
    """
    pair_acc, partner_acc = [], []
    n_pair = n_partner = n_to_partner = n_partner_hits = 0
    for ep in episodes:
        names = ep['class_names']
        index = {n: i for i, n in enumerate(names)}
        pair_hits, partner_hits = [], []
        for gt, pred in zip(ep['query_labels'], ep['pred_labels']):
            name = names[gt]
            if name not in partner:
                continue
            pair_hits.append(pred == gt)
            other = index.get(partner[name])
            if other is not None:
                partner_hits.append(pred == gt)
                n_to_partner += int(pred == other)
                n_partner_hits += int(pred == gt)
        if pair_hits:
            pair_acc.append(float(np.mean(pair_hits)))
            n_pair += len(pair_hits)
        if partner_hits:
            partner_acc.append(float(np.mean(partner_hits)))
            n_partner += len(partner_hits)
    out = {}
    for key, accs, n in (('pair', pair_acc, n_pair), ('partner', partner_acc,
                                                      n_partner)):
        mean, ci = mean_ci(accs)
        out[key] = dict(mean=mean, ci95=ci, episodes=len(accs), queries=n)
    out['to_partner'] = (100 * n_to_partner /
                         n_partner if n_partner else float('nan'))
    n_order = n_partner_hits + n_to_partner
    share = n_partner_hits / n_order if n_order else float('nan')
    out['order'] = dict(
        mean=100 * share,
        ci95=(100 * CI_Z * float(np.sqrt(share * (1 - share) / n_order))
              if n_order else float('nan')),
        queries=n_order)
    return out


def query_dump_of(result: dict) -> Optional[str]:
    """The query dump file named in a result's test command, if any."""
    for arg in result.get('test_cmd', []):
        if arg.startswith('test_evaluator.query_dump_file='):
            return arg.split('=', 1)[1]
    return None


def fmt(mean: float, ci: float) -> str:
    """``'mean +/- ci'`` with two decimals, or ``'-'``."""
    if np.isnan(mean):
        return '-'
    return f'{mean:.2f} +/- {ci:.2f}'


def invocation(iters: int, episodes: int, shots: Sequence[int],
               threads: int) -> str:
    """The command line of this script for one budget."""
    return ('python tools/analysis/compare_methods.py '
            f'--iters {iters} --episodes {episodes} '
            f'--shots {" ".join(map(str, shots))} --threads {threads}')


def write_table(results: List[dict], args: argparse.Namespace) -> None:
    """Write the markdown page with the table and the commands.

    Rows are grouped by budget (training episodes); within a budget every
    method had the same training and test episodes. A model tested on
    several numbers of episodes gets one row, the largest test.

    Args:
        results (list[dict]): Finished runs (any budgets).
        args (argparse.Namespace): The script's options (``out``, and the
            current budget for the list of unfinished runs).
    """
    order = {m[0]: i for i, m in enumerate(METHODS)}
    # one row per trained model: its test with the most episodes
    best = {}
    for r in results:
        run_key = (r['key'], r['shots'], r['iters'])
        if run_key not in best or r['episodes'] > best[run_key]['episodes']:
            best[run_key] = r
    results = sorted(
        best.values(),
        key=lambda r: (r['iters'], r['episodes'], r['shots'], order[r['key']]))
    scripts = []
    for r in results:
        if r['invocation'] not in scripts:
            scripts.append(r['invocation'])
    lines = [
        '# Methods compared on the synthetic data',
        '',
        'Generated by `tools/analysis/compare_methods.py` (do not edit by '
        'hand) with:',
        '',
        '```bash',
        'python tools/data/make_synthetic.py --out data/synthetic',
    ] + [f'nice -n 10 {s}' for s in scripts] + [
        '```',
        '',
        'Data: the built-in synthetic dataset (tiny clips whose classes '
        'differ by motion over time; 10 test classes, 8 of them in 4 '
        'pairs that differ only in temporal order). Every method uses the '
        'same tiny randomly initialised CLIP architecture (no pretrained '
        'weights exist for it, so CLIP brings no prior knowledge here, '
        'neither visual nor textual) and, within one *budget*, the same '
        'training: that many training episodes (5-way, 2 queries per '
        'class) with the schedule of '
        '`configs/_base_/schedules/adamw_synthetic.py` rescaled to that '
        'length, no validation, last checkpoint; then the same test '
        'episodes (5-way, 1 query per class). Unimodal baselines '
        'fine-tune the whole visual tower; CLIP-FSAR fine-tunes it and '
        'reads the frozen text; MA-FSAR keeps CLIP frozen and trains '
        'adapters and TPCM. MA-FSAR rows differ only in '
        '`model.head.matcher`.',
        '',
        'Columns: *accuracy* is the mean over test episodes with its 95% '
        'CI (1.96 std / sqrt(episodes)); *pair classes* restricts every '
        'episode to its queries whose class has a temporal partner; '
        '*partner in episode* to the queries whose partner class is also '
        'in the episode (n = their number; a method blind to frame order '
        'is at best a coin flip there); *as partner* is the share of '
        'those queries predicted as the partner class; *order* is, of the '
        'partner-in-episode queries predicted as their class or as its '
        'partner, the share predicted as their class (binomial 95% CI; '
        '50 % means blind to frame order). Train time is wall '
        'time on a shared 2-core CPU.',
        '',
        'Of the matchers, OTAM (ordered alignment) and TRX (ordered frame '
        'tuples) use frame order; Bi-MHM (a set-to-set Hausdorff '
        'distance) and ProtoNet (a mean over frames) do not. MA-FSAR + '
        'ProtoNet uses `ProtoMatcher(scale=8)`, which puts its cosine on '
        'the logit range of OTAM so that the fused text branch does not '
        'outweigh it.',
        '',
        '| budget | method | shots | accuracy (%) | pair classes (%) | '
        'partner in episode (%) | as partner (%) | order (%) | '
        'train time |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for r in results:
        b = r['breakdown']
        lines.append(
            f"| {r['iters']} it, {r['episodes']} test ep. | {r['label']} | "
            f"{r['shots']} | {fmt(r['acc'], r['ci95'])} | "
            f"{fmt(b['pair']['mean'], b['pair']['ci95'])} | "
            f"{fmt(b['partner']['mean'], b['partner']['ci95'])} "
            f"(n={b['partner']['queries']}) | "
            f"{b['to_partner']:.1f} | "
            f"{fmt(b['order']['mean'], b['order']['ci95'])} | "
            f"{r['train_minutes']:.1f} min |")
    done = {(r['key'], r['shots'], r['iters'], r['episodes']) for r in results}
    missing = [(m[1], k) for k in args.shots for m in METHODS
               if m[0] in args.methods and (m[0], k, args.iters,
                                            args.episodes) not in done]
    if missing:
        lines += [
            '', f'Not finished yet ({args.iters} it): ' +
            ', '.join(f'{label} ({k}-shot)' for label, k in missing) + '.'
        ]
    lines += [
        '', '## Commands', '',
        'Each row was produced by these two commands (run from the '
        'repository root with the repository on `PYTHONPATH`, under '
        '`nice -n 10`):', ''
    ]
    for r in results:
        env = (f"OMP_NUM_THREADS={r['threads']} " if r['threads'] > 0 else '')
        lines += [
            f"**{r['label']}, 5-way {r['shots']}-shot, {r['iters']} "
            'training episodes**', '', '```bash',
            env + shlex.join(r['train_cmd']), env + shlex.join(r['test_cmd']),
            '```', ''
        ]
    out = osp.join(ROOT, args.out)
    os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        f.write('\n'.join(lines).rstrip() + '\n')


def _result_key(r: dict) -> tuple:
    return r['key'], r['shots'], r['iters'], r['episodes']


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the comparison and write the table."""
    args = parse_args(argv)
    os.chdir(ROOT)
    if not osp.exists(osp.join(args.data_root, 'meta.json')):
        subprocess.run([
            sys.executable, 'tools/data/make_synthetic.py', '--out',
            args.data_root
        ],
                       check=True)
    partner = load_pairs(args.data_root)
    os.makedirs(args.work_dir, exist_ok=True)
    results_file = osp.join(args.work_dir, 'results.json')
    results = {}
    if osp.exists(results_file):
        with open(results_file) as f:
            for r in json.load(f):
                # entries written before budgets were recorded
                r.setdefault('threads', 1)
                r.setdefault(
                    'invocation',
                    invocation(r['iters'], r['episodes'], [1, 5],
                               r['threads']))
                dump = query_dump_of(r)
                if dump and osp.exists(dump):  # recompute (new columns)
                    with open(dump) as f:
                        r['breakdown'] = order_breakdown(
                            json.load(f)['episodes'], partner)
                r['breakdown'].setdefault(
                    'order', dict(mean=float('nan'), ci95=float('nan')))
                results[_result_key(r)] = r

    def save() -> None:
        with open(results_file, 'w') as f:
            json.dump(list(results.values()), f, indent=1)
        write_table(list(results.values()), args)

    if args.table_only:
        save()
        return
    script = invocation(args.iters, args.episodes, args.shots, args.threads)
    for k in args.shots:
        for key, label, template in METHODS:
            if key not in args.methods:
                continue
            if (key, k, args.iters,
                    args.episodes) in results and not args.force:
                continue
            config = template.format(k=k)
            work_dir = osp.join(args.work_dir, f'{key}_5w{k}s_{args.iters}it')
            os.makedirs(work_dir, exist_ok=True)
            log_file = osp.join(work_dir, 'commands.log')
            done = None if args.force else trained_run(
                results, key, k, args.iters)
            if done is not None:  # same training, other test episodes
                print(f'[{time.strftime("%H:%M:%S")}] reuse {label}, '
                      f'{k}-shot: {done["checkpoint"]}')
                train_cmd, train_minutes = done['train_cmd'], done[
                    'train_minutes']
                checkpoint = done['checkpoint']
                work_dir = osp.dirname(checkpoint)
            else:
                train_cmd = train_command(config, work_dir, args.iters)
                print(
                    f'[{time.strftime("%H:%M:%S")}] train {label}, {k}-shot',
                    flush=True)
                start = time.time()
                run(train_cmd, log_file, args.threads)
                train_minutes = (time.time() - start) / 60
                checkpoint = osp.join(work_dir, f'iter_{args.iters}.pth')
            test_cmd = test_command(config, checkpoint, work_dir,
                                    args.episodes)
            print(
                f'[{time.strftime("%H:%M:%S")}] test {label}, {k}-shot',
                flush=True)
            run(test_cmd, log_file, args.threads)
            files = test_files(work_dir, args.episodes)
            with open(files['metrics']) as f:
                metrics = json.load(f)
            with open(files['queries']) as f:
                episodes = json.load(f)['episodes']
            result = dict(
                key=key,
                label=label,
                shots=k,
                config=config,
                iters=args.iters,
                episodes=args.episodes,
                threads=args.threads,
                invocation=script,
                acc=metrics['fewshot/acc'],
                ci95=metrics['fewshot/ci95'],
                breakdown=order_breakdown(episodes, partner),
                train_minutes=train_minutes,
                train_cmd=train_cmd,
                test_cmd=test_cmd)
            results[_result_key(result)] = result
            print(
                f"    {metrics['fewshot/acc']:.2f} +/- "
                f"{metrics['fewshot/ci95']:.2f} %",
                flush=True)
            save()
    save()


if __name__ == '__main__':
    main()
