"""The benchmark package (tools/analysis/benchmarks) in tiny smoke runs:
each section's numbers and structure, the models taken from the configs,
and the report rendered from the stored results."""
import json
import os.path as osp
import sys

import pytest
from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))

from benchmarks import common, report, train  # noqa: E402
from benchmarks.data import run_data  # noqa: E402
from benchmarks.evaluation import run_eval  # noqa: E402
from benchmarks.matchers import run_matchers  # noqa: E402
from benchmarks.params import run_params  # noqa: E402
from benchmarks.test_memory import (metric_state_bytes,  # noqa: E402
                                    render_test_memory)
from benchmarks.train_worker import train_worker  # noqa: E402

QUIET = dict(log=lambda *a: None)


def _table_rows(lines, header_start):
    """The data rows of the markdown table whose header starts so."""
    start = next(i for i, line in enumerate(lines)
                 if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith('|'):
            break
        rows.append([c.strip() for c in line.strip('|').split('|')])
    return lines[start], rows


def test_stored_results_render_the_committed_report():
    with open(osp.join(ROOT, 'docs', 'benchmarks.json')) as f:
        results = json.load(f)
    with open(osp.join(ROOT, 'docs', 'benchmarks.md')) as f:
        expected = f.read()
    command = 'python tools/analysis/benchmark.py all --out docs/benchmarks.md'
    assert report.render_report(results, command) == expected


@pytest.mark.parametrize('method', sorted(common.METHOD_CONFIGS))
def test_models_are_the_configs_models(method):
    from mmengine.config import Config
    cfg = common.recognizer_cfg(method, 'tiny', num_frames=4)
    base = Config.fromfile(
        osp.join(common.MODEL_CONFIGS,
                 common.METHOD_CONFIGS[method])).model.to_dict()
    # only the CLIP, its widths and the frame count differ from the config
    tiny = common.clip_cfg('tiny')
    assert tiny['model_cfg']['embed_dim'] == 128
    assert cfg['backbone']['clip'] == tiny
    for key in ('type', 'data_preprocessor', 'text_to_backbone'):
        assert cfg[key] == base[key]
    head, base_head = dict(cfg['head']), dict(base['head'])
    neck, base_neck = head.pop('neck'), base_head.pop('neck')
    matcher, base_matcher = head.pop('matcher'), base_head.pop('matcher')
    assert head == base_head
    if base_neck:
        assert neck == dict(base_neck, in_channels=128, ffn_channels=512)
    if base_matcher['type'] == 'TRXMatcher':
        base_matcher.update(in_channels=128, seq_len=4)
    assert matcher == base_matcher
    if method in ('full_ft', 'frozen'):
        assert cfg['backbone'] == dict(
            type='CLIPVisual', clip=tiny, frozen=method == 'frozen')
    else:
        expected = dict(base['backbone'], clip=tiny)
        if expected['type'] == 'CLIPViTFgMA':
            expected['num_frames'] = 4
        assert cfg['backbone'] == expected
    if base.get('text_encoder'):
        assert cfg['text_encoder'] == dict(
            base['text_encoder'], clip=tiny, cache=True)


def test_params_section_counts_add_up():
    rows = {r['key']: r for r in run_params(['tiny'], {})['rows']}
    assert list(rows) == [
        'mafsar', 'full_ft', 'frozen', 'clip_fsar', 'trx', 'otam'
    ]
    for row in rows.values():
        assert row['total'] == row['tunable'] + row['frozen']
        # every tunable parameter is in exactly one listed part
        assert sum(row['parts'].values()) == row['tunable']
    # full fine-tuning tunes the whole tower, the frozen variant none of it,
    # both with the same head
    full, frozen = rows['full_ft'], rows['frozen']
    assert full['parts']['visual'] == full['visual']
    assert frozen['parts']['visual'] == 0
    assert full['tunable'] - frozen['tunable'] == full['visual']
    assert full['total'] == frozen['total']
    # no text tower in the unimodal baselines
    assert rows['trx']['text'] == rows['otam']['text'] == 0
    assert rows['mafsar']['text'] == rows['full_ft']['text'] > 0


def test_matchers_section_shares():
    res = run_matchers(
        dims=16,
        num_frames=4,
        n_way=3,
        k_shot=2,
        n_query=1,
        reps=2,
        episode_arch='tiny',
        episode_reps=1,
        **QUIET)
    assert list(res['matcher_ms']) == ['OTAM', 'BiMHM', 'TRX', 'Proto']
    for name, share in res['share'].items():
        assert share == res['matcher_ms'][name] / res['episode_ms']
    assert res['episode_size'] == 64
    header, rows = _table_rows(report.render_matchers(res), '| matcher |')
    assert [r[0] for r in rows] == ['OTAM', 'BiMHM', 'TRX', 'Proto']
    assert [r[2] for r in rows
            ] == [f'{res["matcher_ms"][n]:.3f}' for n in res['matcher_ms']]
    assert rows[2][-1] == 'n/a'


def test_eval_section_cache_matches_plain_path(synthetic_root):
    res = run_eval(synthetic_root, 2, (2, 3), **QUIET)
    assert res['identical_predictions'] is True
    assert res['plain_accuracy'] == res['cached_accuracy']
    assert [r['episodes'] for r in res['rows']] == [2, 3]
    videos, n, k, q = (res['num_videos'], res['n_way'], res['k_shot'],
                       res['n_query'])
    for row in res['rows']:
        assert row['cached_passes'] == res['encoder_passes'] / videos
        assert row['plain_passes'] == row['episodes'] * n * (k + q) / videos
        assert row['speedup'] == pytest.approx(row['plain_s'] /
                                               row['cached_s'])
    assert [r['plain_measured'] for r in res['rows']] == [True, False]


def test_data_section_rows(synthetic_root):
    res = run_data(synthetic_root, 1, (0, ), 1, None, **QUIET)
    assert [(r['pipeline'], r['workers'], r['videos_per_episode'])
            for r in res['rows']] == [('quickstart', 0, 15), ('224', 0, 10)]
    tiny = res['model_rates']['quickstart']
    assert list(res['model_rates']) == ['quickstart']
    assert tiny['videos_per_s'] == pytest.approx(15 / tiny['step_s'])


def test_train_worker_static_bytes_are_exact():
    res = train_worker('mafsar', 'tiny', 64, 4, warmup=0, steps=2)
    model = common.build_model(common.recognizer_cfg('mafsar', 'tiny', 4))
    tunable = [p for p in model.parameters() if p.requires_grad]
    static = res['static']
    assert static['tunable_params'] == sum(p.numel() for p in tunable)
    # fp32 weights and buffers (BatchNorm's batch counts are int64);
    # AdamW keeps two moments (+ a step count)
    assert static['weights'] == 4 * sum(
        p.numel() for p in model.parameters()) + sum(
            b.numel() * b.element_size() for b in model.buffers())
    assert static['grads'] == 4 * static['tunable_params']
    assert static['optimizer'] == 2 * static['grads'] + 4 * len(tunable)
    assert len(res['steps']) == 2
    for step in res['steps']:
        parts = step['forward'] + step['backward'] + step['optimizer']
        assert parts == pytest.approx(step['wall'])
    assert res['peak'] == res['peak_rss'] - res['baseline_rss']


def test_summarize_train_medians_and_ratios():

    def run(wall, peak):
        step = dict(
            wall=wall, cpu=wall / 2, forward=1., backward=2., optimizer=3.)
        return dict(
            steps=[step],
            peak=peak,
            peak_over_build=peak / 2,
            static={},
            load_average=[1., 1., 1.])

    state = dict(
        runs=dict(
            full_ft=[run(4., 8.), run(6., 10.),
                     run(5., 12.)],
            mafsar=[run(2., 4.), run(3., 6.),
                    run(4., 5.)]),
        live=dict(
            full_ft=dict(peak=10., saved=3.), mafsar=dict(peak=4., saved=1.)))
    summ = train.summarize_train(state)
    assert summ['mafsar']['wall'] == 3. and summ['full_ft']['wall'] == 5.
    assert summ['mafsar']['time_ratio'] == 3. / 5.
    assert summ['mafsar']['memory_ratio'] == 5. / 10.
    assert summ['mafsar']['live_ratio'] == 4. / 10.
    assert summ['full_ft']['cpu_ratio'] == 1.


def test_train_worker_runs_in_its_own_process():
    res = train._spawn_worker([
        '--variant', 'frozen', '--arch', 'tiny', '--size', '64',
        '--num-frames', '4', '--warmup', '0', '--steps', '1'
    ])
    assert res['variant'] == 'frozen' and res['threads'] == 1
    assert len(res['steps']) == 1


def test_cli_writes_report_and_results(tmp_path):
    cli = load_tool('tools/analysis/benchmark.py', 'benchmark_cli')
    out = tmp_path / 'bench.md'
    cli.main(['params', '--quick', '--out', str(out)])
    stored = json.loads((tmp_path / 'bench.json').read_text())
    assert stored['quick'] is True
    assert list(stored['section_machine']) == ['params']
    lines = out.read_text().splitlines()
    header, rows = _table_rows(lines, '| method |')
    assert [r[0] for r in rows] == [
        'MA-FSAR', 'Full fine-tuning', 'Frozen CLIP + TPCM', 'CLIP-FSAR',
        'TRX', 'OTAM'
    ]
    by_method = {r['method']: r for r in stored['params']['rows']}
    for row in rows:
        assert row[3] == f'{by_method[row[0]]["tunable"] / 1e6:.2f} M'
    # the six other sections: a title each, no numbers yet
    assert out.read_text().count('(not run yet)') == 6


def test_metric_state_does_not_grow_with_episodes():
    small, large = metric_state_bytes(10), metric_state_bytes(3000)
    assert small['counted'] == 10 and large['counted'] == 3000
    assert small['results_len'] == large['results_len'] == 1
    assert large['pickled_bytes'] <= small['pickled_bytes'] + 16
    # a record per episode would hold > 100 bytes each
    assert large['traced_bytes'] < 20000


def test_test_memory_section_renders_rows():
    rows = [
        dict(episodes=n, measured_episodes=n, peak_rss=mib * 2**20,
             wall_s=s, acc=20.0, ci95=1.0)
        for n, mib, s in ((1000, 1000.0, 60), (10000, 1002.5, 400))
    ]
    lines = render_test_memory(dict(rows=rows, metric=[]))
    header, table = _table_rows(lines, '| episodes asked |')
    assert table == [['1,000', '1,000', '1000.0', '60', '20.00 +/- 1.00'],
                     ['10,000', '10,000', '1002.5', '400',
                      '20.00 +/- 1.00']]
    assert lines[-1] == ('From 1,000 to 10,000 episodes the peak RSS '
                         'changes by +2.5 MiB (9,000 more episodes).')
