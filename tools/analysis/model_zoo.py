"""Write the model zoo: ``configs/**/metafile.yml`` (one per config family,
MMAction2's format, listed in ``model-index.yml`` so that ``mim search
mafsar_mm`` finds every config) and the results part of each family's
``README.md``.

Every entry is read from its config (backbone, CLIP, matcher, N-way
K-shot, frames, crop, training episodes). Results are attached only where
this repository produced them: the synthetic-data rows of
``docs/synthetic_comparison.md`` (written by ``compare_methods.py``; their
commands are in ``docs/synthetic_comparison.json``). The real benchmarks
have empty slots until someone runs them. Usage::

    python tools/analysis/model_zoo.py          # (re)write the files
    python tools/analysis/model_zoo.py --check  # exit 1 if any is stale

Metafile layout after MMAction2's ``configs/recognition/*/metafile.yml``.
"""
import argparse
import functools
import glob
import json
import os.path as osp
import re
import sys
from typing import Dict, List, Optional

import yaml
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from comparison_report import (chosen_rows, fmt,  # noqa: E402
                               grid_label, spread_rows)
from model_zoo_families import (BENCHMARKS, FAMILIES,  # noqa: E402
                                FLAVOUR_DATA, PAPER_RESULTS)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COMPARISON = osp.join('docs', 'synthetic_comparison.md')
COMPARISON_JSON = osp.join('docs', 'synthetic_comparison.json')
README_MARK = '<!-- results: written by tools/analysis/model_zoo.py -->'
#: options a comparison varies between the runs of one row
VARIED = ('optim_wrapper.optimizer.lr', 'randomness.seed',
          'train_dataloader.dataset.seed')


def benchmark_of(data_root: str) -> str:
    """Benchmark key of a data root (``data/ssv2_small`` ->
    ``ssv2-small``)."""
    key = osp.basename(data_root.rstrip('/')).replace('_', '-')
    if key not in BENCHMARKS:
        raise ValueError(f'unknown data root {data_root!r}; known: '
                         f'{", ".join(sorted(BENCHMARKS))}')
    return key


@functools.lru_cache(maxsize=None)
def describe(config: str) -> dict:
    """The facts of one config that the zoo lists."""
    cfg = Config.fromfile(osp.join(ROOT, config), import_custom_modules=False)
    backbone = cfg.model.backbone
    clip = backbone.get('clip') or {}
    test = cfg.test_dataloader.dataset
    frames = next(t['clip_len'] for t in test.pipeline if 'clip_len' in t)
    crop = next(t['crop_size'] for t in test.pipeline
                if t['type'] == 'CenterCrop')
    if backbone.type == 'CLIPViTFgMA':
        tuning = 'frozen CLIP + FgMA adapters'
    elif backbone.get('frozen', False):
        tuning = 'frozen CLIP'
    else:
        tuning = 'full fine-tuning'
    return dict(
        name=osp.splitext(osp.basename(config))[0],
        config=config,
        # tiny = configs/_base_/models/clip_tiny.py
        clip=clip.get('model_name', 'tiny'),
        tuning=tuning,
        matcher=cfg.model.head.matcher.type,
        neck=(cfg.model.head.get('neck') or {}).get('type'),
        n_way=test.n_way,
        k_shot=test.k_shot,
        frames=frames,
        crop=crop,
        episodes=cfg.train_cfg.max_iters,
        benchmark=benchmark_of(test.data_root))


def comparison_rows() -> List[dict]:
    """One row per method, flavour, shots and budget of
    ``docs/synthetic_comparison.json``: the summary of its tested runs
    (one per class split and seed, each with the learning rate and text
    weight chosen on val; ``comparison_report.spread_rows``) and the runs
    themselves under ``'members'``."""
    with open(osp.join(ROOT, COMPARISON_JSON)) as f:
        results = json.load(f)
    chosen = chosen_rows(results)
    rows = []
    for g in spread_rows(chosen):
        group = (g['flavour'], g['key'], g['shots'], g['iters'],
                 g['episodes'])
        runs = sorted(
            (best for _, best in chosen
             if (best['flavour'], best['key'], best['shots'], best['iters'],
                 best['episodes']) == group),
            key=lambda r: (r.get('split', 0), r.get('seed', 0)))
        configs = {r['config'] for r in runs}
        options = {tuple(model_options(r)) for r in runs}
        if len(configs) != 1 or len(options) != 1:
            raise ValueError(f'{g["label"]} ({g["flavour"]}, '
                             f'{g["shots"]}-shot): its runs differ in more '
                             'than split, seed and learning rate: '
                             f'{sorted(configs)} {sorted(options)}')
        rows.append(
            dict(g, config=configs.pop(), options=list(options.pop()),
                 members=runs))
    return rows


def family_configs(folder: str) -> List[str]:
    found = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, folder, '*.py')))
    return list(FAMILIES[folder].get('extra', ())) + found


def model_options(row: dict) -> List[str]:
    """A run's ``--cfg-options`` other than what a comparison varies
    (learning rate, seed, class split): empty when the run is the config
    itself."""
    return [
        o for o in row.get('options', [])
        if o.split('=', 1)[0] not in VARIED
        and not re.fullmatch(r'\w+_dataloader\.dataset\.ann_file=split\d+/'
                             r'\w+\.txt', o)
    ]


def _belongs(row: dict, family: dict) -> bool:
    return row['label'].startswith(family['labels'])


def _metrics(row: dict) -> dict:
    """Mean test accuracy of a row's runs, their standard deviation (when
    there are two or more) and their number."""
    metrics = {'Accuracy': round(float(row['mean']), 1)}
    if row['runs'] > 1:
        metrics['Std'] = round(float(row['std']), 1)
    metrics['Runs'] = row['runs']
    return metrics


def metafile(folder: str, rows: List[dict]) -> dict:
    """The ``metafile.yml`` content of one family."""
    family = FAMILIES[folder]
    models = []
    for config in family_configs(folder):
        d = describe(config)
        entry = dict(
            Name=d['name'],
            Config=config,
            **{'In Collection': family['name']})
        entry['Metadata'] = {
            'Architecture': f"CLIP {d['clip']}, {d['tuning']}",
            'Matcher': d['matcher'],
            'Prototype Module': d['neck'] or 'none',
            'Setting': f"{d['n_way']}-way {d['k_shot']}-shot",
            'Frames': d['frames'],
            'Resolution': f"{d['crop']}x{d['crop']}",
            'Training Data': BENCHMARKS[d['benchmark']],
            'Training Episodes': d['episodes'],
        }
        results = [
            r for r in rows if r.get('config') == config
            and not model_options(r) and _belongs(r, family)
        ]
        if results:
            entry['Results'] = [
                dict(
                    Dataset=BENCHMARKS[FLAVOUR_DATA[r['flavour']]],
                    Task=f"Few-shot Action Recognition ({r['iters']} "
                    f"training episodes, test classes, mean of {r['runs']} "
                    f"runs: {grid_label(r, long=True)}; README)",
                    Metrics=_metrics(r)) for r in results
            ]
        models.append(entry)
    return dict(
        Collections=[
            dict(
                Name=family['name'],
                README=osp.join(folder, 'README.md'),
                Paper=family['paper'])
        ],
        Models=models)


def results_markdown(folder: str, rows: List[dict]) -> str:
    """The generated part of a family's README."""
    family = FAMILIES[folder]
    out = [README_MARK, '', '## Results on the real benchmarks', '']
    out.append('Not run yet: no slot below holds a number of ours. The '
               'paper column is what the MA-FSAR paper reports (5-way '
               'accuracy, %), for reference.')
    out += [
        '', '| config | CLIP | tuning | matcher | setting | benchmark | '
        'accuracy (%) | 95% CI | paper (%) | log | checkpoint |',
        '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for config in family_configs(folder):
        d = describe(config)
        if d['benchmark'].startswith('synthetic'):
            continue
        # the paper's main rows use OTAM (other matchers: its Table 7)
        reported = PAPER_RESULTS.get((family['name'], d['clip']), {}).get(
            d['benchmark'], (None, None))[d['k_shot'] == 5]
        paper = reported if reported and d['matcher'] == 'OTAMMatcher' \
            and d['k_shot'] in (1, 5) else ''
        out.append(f"| `{d['name']}` | {d['clip']} | {d['tuning']} | "
                   f"{d['matcher']} | {d['n_way']}-way {d['k_shot']}-shot "
                   f"| {BENCHMARKS[d['benchmark']]} | | | {paper} | | |")
    mine = [r for r in rows if _belongs(r, family)]
    out += ['', '## Results on the synthetic data', '']
    out.append(
        'From `docs/synthetic_comparison.md` (every method with the same '
        'pretrained tiny CLIP and training budget; per class split and '
        'seed, the learning rate and the text weight chosen on 500 val '
        'episodes, then 2,000 test episodes of the test classes). A row '
        'is the mean test accuracy over its runs, with their standard '
        'deviation and range. That page explains the regime and what the '
        'rows show; the commands of every run are below. The training '
        'logs were not kept in the repository: the commands write them to '
        '`work_dirs/compare_methods/`.')
    out += [
        '', '| method | flavour | shots | training episodes | config | '
        'extra options | runs (splits x seeds) | learning rate per run | '
        'text weight per run | test mean (%) | std | min - max | '
        'text only mean (%) |', '|---|---|---|---|---|---|---|---|---|---|'
        '---|---|---|'
    ]
    for r in mine:
        options = ' '.join(r['options']) or '-'
        rates = ', '.join(f"{run['lr']:g}" for run in r['members'])
        alphas = ', '.join(
            '-' if run['val'].get('alpha') is None else
            f"{run['val']['alpha']:g}" for run in r['members'])
        out.append(
            f"| {r['label']} | {r['flavour']} | {r['shots']} | "
            f"{r['iters']} | `{osp.basename(r['config'])}` | {options} | "
            f"{r['runs']} ({grid_label(r)}) | {rates} "
            f"| {alphas} | {r['mean']:.1f} | {fmt(r['std'])} | "
            f"{r['min']:.1f} - {r['max']:.1f} | {fmt(r['text_only'])} |")
    if mine:
        out += ['', '<details><summary>Commands of these runs</summary>', '']
        for r in mine:
            for run in r['members']:
                out += [
                    f"{r['label']}, {r['flavour']}, {r['shots']}-shot, "
                    f"split {run.get('split', 0)}, seed "
                    f"{run.get('seed', 0)}:", '', '```bash',
                    ' '.join(run['train_cmd']), ' '.join(run['test_cmd']),
                    '```', ''
                ]
        out.append('</details>')
    return '\n'.join(out) + '\n'


def readme(folder: str, rows: List[dict],
           current: Optional[str] = None) -> str:
    """A family's README: the hand-written part of ``current`` (or a
    generated head) and the generated results."""
    family = FAMILIES[folder]
    if current and README_MARK in current:
        head = current[:current.index(README_MARK)]
    else:
        paper = family['paper']
        head = (f"# {family['name']}\n\n> [{paper['Title']}]"
                f"({paper['URL']})\n\n{family['summary']}\n\n"
                '## Usage\n\n```bash\npython tools/train.py CONFIG\n'
                'python tools/test.py CONFIG CHECKPOINT\n'
                'python tools/analysis/count_params.py CONFIG\n```\n\n')
    return head + results_markdown(folder, rows)


def model_index() -> dict:
    return dict(Import=[osp.join(f, 'metafile.yml') for f in FAMILIES])


def expected_files() -> Dict[str, str]:
    """Path (relative to the repository) -> content of every zoo file."""
    rows = comparison_rows()
    files = {
        'model-index.yml':
        yaml.safe_dump(model_index(), sort_keys=False)
    }
    for folder in FAMILIES:
        files[osp.join(folder, 'metafile.yml')] = yaml.safe_dump(
            metafile(folder, rows), sort_keys=False, width=79)
        path = osp.join(ROOT, folder, 'README.md')
        current = open(path).read() if osp.exists(path) else None
        files[osp.join(folder, 'README.md')] = readme(folder, rows, current)
    return files


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--check',
        action='store_true',
        help='write nothing; exit 1 naming the files that differ')
    args = parser.parse_args(argv)
    stale = []
    for rel, text in expected_files().items():
        path = osp.join(ROOT, rel)
        old = open(path).read() if osp.exists(path) else None
        if old == text:
            continue
        stale.append(rel)
        if not args.check:
            with open(path, 'w') as f:
                f.write(text)
    if args.check and stale:
        print('error: stale model-zoo files (run python '
              f'tools/analysis/model_zoo.py): {", ".join(stale)}',
              file=sys.stderr)
        return 1
    print(f'{"stale" if args.check else "wrote"}: {len(stale)} file(s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
