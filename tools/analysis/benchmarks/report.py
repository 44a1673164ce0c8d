"""The whole Markdown report from the stored results."""
from typing import List

from .common import SECTIONS, TARGETS
from .markdown import _m, _ok, _table
from .render_train import (TRAIN_NOTES, _train_summary, render_profiles,
                           render_train, render_train_findings,
                           render_train_levers)
from .headline import render_headline
from .test_memory import render_test_memory


def render_params(res: dict) -> List[str]:
    """Markdown of the parameter section."""
    paper = {
        ('mafsar', 'ViT-B-32'): ('18.54 M', '151.3 M'),
        ('full_ft', 'ViT-B-32'): ('90.99 M', '-')
    }
    rows = []
    for r in res['rows']:
        p_tun, p_frozen = paper.get((r['key'], r['arch']), ('-', '-'))
        rows.append(
            (r['method'], r['arch'], _m(r['total']), _m(r['tunable']),
             _m(r['frozen']), f'{100 * r["tunable"] / r["total"]:.1f} %',
             p_tun, p_frozen, r['note']))
    lines = _table(
        ('method', 'CLIP', 'total', 'tunable', 'frozen', 'tunable share',
         'paper tunable', 'paper frozen', 'what is tuned'), rows)
    for r in res['rows']:
        if r['key'] == 'mafsar':
            parts = ', '.join(f'{k} {v:,d}' for k, v in r['parts'].items()
                              if v)
            lines += ['', f'MA-FSAR {r["arch"]} tunable parts: {parts}.']
    ref = {r['arch']: r for r in res['rows'] if r['key'] == 'full_ft'}
    for r in res['rows']:
        if r['key'] == 'mafsar' and r['arch'] in ref:
            ratio = r['tunable'] / ref[r['arch']]['tunable']
            lines += [
                '', f'{r["arch"]}: MA-FSAR tunes {ratio:.3f}x the '
                'parameters of full fine-tuning (paper: 18.54 / '
                '90.99 = 0.204x).'
            ]
    return lines


def render_eval(res: dict) -> List[str]:
    """Markdown of the evaluation section."""
    rows = []
    for r in res['rows']:
        rows.append(
            (r['episodes'],
             f'{r["plain_s"]:.1f}' + ('' if r['plain_measured'] else ' *'),
             f'{r["cached_s"]:.1f}', f'{r["plain_eps"]:.2f}',
             f'{r["cached_eps"]:.1f}', f'**{r["speedup"]:.1f}x**',
             f'{r["plain_passes"]:.1f}', f'{r["cached_passes"]:.1f}'))
    lines = _table(
        ('episodes', 'plain s', 'cached s (build + episodes)',
         'plain episodes/s', 'cached episodes/s', 'speed-up',
         'plain encoder passes / video', 'cached encoder passes / video'),
        rows)
    lines += [
        '', f'\\* extrapolated from the {res["plain_episodes"]} measured '
        'plain episodes (the plain path does the same work every '
        'episode).', '',
        f'Cache build: {res["build_time"]:.1f} s for {res["num_videos"]} '
        f'videos ({res["encoder_passes"]} encoder passes: query branch + '
        'text-conditioned support branch); then '
        f'{res["head_ms"]:.2f} ms per episode (TPCM + OTAM + text branch). '
        f'Accuracy on the {res["plain_episodes"]} common episodes: plain '
        f'{res["plain_accuracy"]:.2f} %, cached '
        f'{res["cached_accuracy"]:.2f} %; predictions identical: '
        f'**{res["identical_predictions"]}** (random-weight model, so the '
        'accuracy itself is near chance; what matters is that it is the '
        'same).'
    ]
    return lines


def render_matchers(res: dict) -> List[str]:
    """Markdown of the matcher section."""
    rows = []
    for name, ms in res['matcher_ms'].items():
        free = name != 'TRX'
        share = res['share'][name]
        rows.append((name, 'yes' if free else 'no (TRX cross-transformer)',
                     f'{ms:.3f}', f'{100 * share:.3f} %',
                     f'{100 * ms / res["head_ms"]:.0f} %',
                     _ok(share < TARGETS['matcher_share']) if free else 'n/a'))
    lines = _table(('matcher', 'parameter-free', 'ms per episode',
                    'share of the MA-FSAR forward pass', 'vs cached head time',
                    'target < 2 %'), rows)
    lines += [
        '', f'Episode: {res["n_way"]}-way {res["k_shot"]}-shot, '
        f'{res["n_query"]} queries per class, D = {res["dims"]}, '
        f'T = {res["num_frames"]}; median of {res["reps"]} interleaved runs '
        '(inference, no grad). Episode total: MA-FSAR '
        f'{res["episode_arch"]} forward pass (`predict`, '
        f'{res["n_way"] * (res["k_shot"] + res["n_query"])} videos x '
        f'{res["num_frames"]} frames x {res["episode_size"]}^2, text '
        f'cached) = {res["episode_ms"] / 1e3:.2f} s (median of '
        f'{res["episode_reps"]}). With the feature cache an episode only '
        f'runs the head (TPCM + matcher + text branch): '
        f'{res["head_ms"]:.2f} ms; the last column is the matcher time as '
        'a share of that.'
    ]
    return lines


def render_data(res: dict) -> List[str]:
    """Markdown of the data-loading section."""
    rows = []
    for r in res['rows']:
        model = res['model_rates'].get(r['pipeline'])
        m_rate = model['videos_per_s'] if model else float('nan')
        rows.append((r['label'], r['workers'], f'{r["videos_per_s"]:.1f}',
                     f'{m_rate:.1f}' if model else 'run `train`',
                     f'{r["videos_per_s"] / m_rate:.1f}x' if model else '-'))
    lines = _table(('pipeline', 'workers', 'loader videos/s',
                    'model videos/s (training)', 'loader / model'), rows)
    lines += [
        '', f'Timed over {res["episodes"]} training episodes after '
        'the first (which pays the workers\' start-up); each video '
        'is decoded with decord and goes through the whole '
        'pipeline. Model rates:'
    ]
    for key, model in res['model_rates'].items():
        lines.append(f'* {model["label"]}: {model["step_s"]:.3f} s/step, '
                     f'{model["videos_per_s"]:.1f} videos/s.')
    return lines


def _summary(results: dict) -> List[str]:
    """The headline lines: measured ratios next to the targets."""
    lines = []
    if 'train' in results:
        lines += _train_summary(results['train']) + ['']
    if 'params' in results:
        for r in results['params']['rows']:
            if r['key'] == 'mafsar':
                lines.append(f'* Tunable parameters, MA-FSAR {r["arch"]}: '
                             f'{_m(r["tunable"])} of {_m(r["total"])}.')
    if 'eval' in results:
        best = max(results['eval']['rows'], key=lambda r: r['episodes'])
        lines.append(
            f'* Evaluation, {best["episodes"]} episodes 5-way 1-shot: '
            f'feature cache **{best["speedup"]:.1f}x** faster (target >= '
            f'20x, {_ok(best["speedup"] >= TARGETS["eval_speedup"])}), '
            f'{best["cached_passes"]:.0f} encoder passes per video instead '
            f'of {best["plain_passes"]:.0f}; identical predictions: '
            f'{results["eval"]["identical_predictions"]}.')
    if 'matchers' in results:
        share = results['matchers']['share']
        free = {k: v for k, v in share.items() if k != 'TRX'}
        lines.append(
            '* Matchers (5-way 5-shot, 5 queries per class): ' +
            ', '.join(f'{k} {100 * v:.3f} %' for k, v in share.items()) +
            ' of the episode forward pass (target < 2 % for the '
            f'parameter-free ones, {_ok(max(free.values()) < 0.02)}).')
    if 'data' in results:
        data = results['data']
        worst = []
        for key, model in data['model_rates'].items():
            rates = [
                r['videos_per_s'] for r in data['rows'] if r['pipeline'] == key
            ]
            if rates:
                worst.append(max(rates) / model['videos_per_s'])
        if worst:
            lines.append(
                '* Data loading: the best loader setting delivers ' +
                ' / '.join(f'{w:.1f}x' for w in worst) +
                ' the videos the model consumes (quickstart / 224 px): ' +
                ('not the bottleneck.' if min(worst) >
                 1 else '**the bottleneck**.'))
    return lines


def render_report(results: dict, command: str) -> str:
    """The whole markdown report."""
    info = results.get('machine', {})
    quick = results.get('quick', False)
    lines = [
        '# Benchmarks', '',
        '<!-- Generated by tools/analysis/benchmark.py; do not edit by '
        'hand. -->', '',
        'Efficiency of MA-FSAR against full fine-tuning and the baselines '
        '(GitHub issue 7). **Everything runs on CPU** (there is no GPU on '
        'the machine); every model uses random weights of the real '
        'architecture (`pretrained=None`), which does not change time or '
        'memory.', ''
    ]
    if quick:
        lines += [
            '**Quick smoke run (`--quick`): tiny sizes, the numbers '
            'mean nothing.**', ''
        ]
    lines += [
        'Regenerate this page (all sections, about an hour and a '
        'quarter on the machine below):', '', '```bash', command, '```',
        '', 'One section: replace `all` with `params`, `train`, `eval`, '
        '`matchers`, `data`, `test_memory` or `headline` (the others are '
        'kept from '
        f'`{results.get("results_file", "the JSON file")}`).', '',
        '## Summary', ''
    ]
    lines += _summary(results) or ['(no results yet)']
    lines += ['', '## Machine', '']
    sect_info = results.get('section_machine', {})
    lines += _table(('', ''), [
        ('CPU', info.get('cpu')),
        ('logical cores / torch threads',
         f'{info.get("logical_cores")} / {info.get("torch_threads")}'),
        ('memory', f'{info.get("memory_gib")} GiB'),
        ('GPU', info.get('gpu')),
        ('Python / torch / open_clip',
         f'{info.get("python")} / {info.get("torch")} / '
         f'{info.get("open_clip")}'),
        ('platform', info.get('platform')),
    ] + [(f'{name} run', f'{m["date"]}, load average (1 min) at start '
          f'{m["load_average"][0]:.1f}') for name, m in sect_info.items()])
    lines += [
        '', 'The machine is shared (other developers\' jobs ran at '
        'the same time, see the load averages), so absolute times '
        'are noisy; variants are measured side by side in one run, '
        'interleaved, and compared through ratios of medians.', ''
    ]
    renders = dict(
        params=('1. Parameters', render_params),
        train=('2. Training step: memory and time', render_train),
        eval=('3. Evaluation: feature cache', render_eval),
        matchers=('4. Matchers', render_matchers),
        data=('5. Data loading', render_data),
        test_memory=('6. Test memory against the number of episodes',
                     render_test_memory),
        headline=('7. The headline config with tools/train.py',
                  render_headline))
    for name in SECTIONS:
        title, fn = renders[name]
        lines += [f'## {title}', '']
        if name not in results:
            lines += ['(not run yet)', '']
            continue
        lines += fn(results[name]) + ['']
        if name == 'train':
            levers = render_train_levers(results['train'])
            if levers:
                lines += [
                    '### Levers', '',
                    'Each row against its method\'s default run '
                    '(ratios of medians):', ''
                ] + levers + ['']
                lines += TRAIN_NOTES + ['']
            notes = results['train'].get('notes')
            if notes:
                lines += notes + ['']
            findings = render_train_findings(results['train'])
            if findings:
                lines += ['### Findings', ''] + findings + ['']
            prof = render_profiles(results['train'])
            if prof:
                lines += ['### Where the time goes (torch.profiler)', '']
                lines += prof + ['']
    return '\n'.join(lines).rstrip() + '\n'
