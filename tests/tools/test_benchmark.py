"""Smoke tests of tools/analysis/benchmark.py on tiny sizes."""
import importlib.util
import json
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    path = osp.join(ROOT, 'tools', 'analysis', 'benchmark.py')
    spec = importlib.util.spec_from_file_location('benchmark_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_params_subcommand_writes_the_report(bench, tmp_path):
    out = tmp_path / 'bench.md'
    results = bench.main(['params', '--quick', '--out', str(out)])
    text = out.read_text()
    lines = text.splitlines()
    assert lines[0] == '# Benchmarks'
    assert 'python tools/analysis/benchmark.py all --out' in text
    assert 'Everything runs on CPU' in text
    header, rows = _table_rows(lines, '| method |')
    assert header.split('|')[1:5] == [
        ' method ', ' CLIP ', ' total ', ' tunable '
    ]
    methods = [r[0] for r in rows]
    assert methods == [
        'MA-FSAR', 'Full fine-tuning', 'Frozen CLIP + TPCM', 'CLIP-FSAR',
        'TRX', 'OTAM'
    ]
    by_key = {r['key']: r for r in results['params']['rows']}
    # tiny CLIP: MA-FSAR tunes far less than full fine-tuning, the frozen
    # variant only the head, and every count adds up
    assert by_key['mafsar']['tunable'] < by_key['full_ft']['tunable']
    assert by_key['frozen']['tunable'] < by_key['mafsar']['tunable']
    for row in by_key.values():
        assert row['total'] == row['tunable'] + row['frozen']
    # the other sections are announced but not run
    for title in ('## 2. Training step', '## 3. Evaluation', '## 4. Matchers',
                  '## 5. Data loading'):
        assert title in text
    assert text.count('(not run yet)') == 4
    stored = json.loads((tmp_path / 'bench.json').read_text())
    assert stored['quick'] is True and 'params' in stored


def test_matcher_timing_table(bench):
    res = bench.run_matchers(
        dims=16,
        num_frames=4,
        n_way=3,
        k_shot=2,
        n_query=1,
        reps=2,
        episode_arch='tiny',
        episode_reps=1,
        log=lambda *a: None)
    assert set(res['matcher_ms']) == {'OTAM', 'BiMHM', 'TRX', 'Proto'}
    assert all(v > 0 for v in res['matcher_ms'].values())
    assert res['episode_ms'] > 0 and res['head_ms'] > 0
    for name, share in res['share'].items():
        assert share == pytest.approx(res['matcher_ms'][name] /
                                      res['episode_ms'])
    header, rows = _table_rows(bench.render_matchers(res), '| matcher |')
    assert [r[0] for r in rows] == ['OTAM', 'BiMHM', 'TRX', 'Proto']
    assert [r[1] for r in rows
            ] == ['yes', 'yes', 'no (TRX '
                  'cross-transformer)', 'yes']
    assert rows[2][-1] == 'n/a'
    assert all(r[3].endswith('%') for r in rows)
