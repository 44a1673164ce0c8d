"""Section 7 of the benchmarks (the headline config with tools/train.py):
the watchdog stops a run over its memory limit, a finished run's
iterations are timed, and the table renders what was measured."""
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))

from benchmarks import headline  # noqa: E402
from benchmarks.common import QUICKSTART_CONFIG  # noqa: E402


def _config(tmp_path, root):
    path = tmp_path / 'tiny.py'
    path.write_text(headline._CONFIG.format(base=QUICKSTART_CONFIG,
                                            root=root))
    return str(path)


def test_run_over_the_limit_is_stopped(tmp_path, synthetic_root):
    row = headline.run_setting(_config(tmp_path, synthetic_root), [],
                               str(tmp_path / 'wd'), 2, 50 * 2**20, 1)
    # python + torch pass 50 MiB long before training starts
    assert row['status'] == 'over limit'
    assert 50 * 2**20 < row['peak_rss'] < 2**30
    assert row['iters_logged'] == 0 and row['iter_s'] is None
    assert row['wall_s'] < 60


def test_finished_run_is_timed(tmp_path, synthetic_root):
    row = headline.run_setting(_config(tmp_path, synthetic_root), [],
                               str(tmp_path / 'wd'), 2, 8 * 2**30, 1)
    assert row['status'] == 'ok', row
    assert row['iters_logged'] == 2
    assert 0 < row['first_iter_s'] < row['wall_s']
    assert row['iter_s'] > 0 and row['peak_rss'] > 100 * 2**20


def test_gpu_memory_is_read_from_the_logged_iterations():
    line = ('12/03 - mmengine - INFO - Iter(train) [ 20/400]  lr: 1e-05  '
            'eta: 0:01:00  time: 0.5  data_time: 0.01  memory: {}  loss: 1')
    assert headline.gpu_memory_mib([line.format(9000),
                                    line.format(11800), 'memory: 99']) \
        == 11800
    cpu = line.replace('  memory: {}', '')
    assert headline.gpu_memory_mib([cpu]) is None


def test_render_gives_every_setting():
    res = dict(iters=2, limit_gib=16.0, threads=2, rows=[
        dict(setting='with_cp=False (none)', status='over limit',
             peak_rss=16.2 * 2**30, first_iter_s=None, iter_s=None,
             iters_logged=0),
        dict(setting='with_cp=True (whole blocks)', status='ok',
             peak_rss=8.8 * 2**30, first_iter_s=600.4, iter_s=525.6,
             iters_logged=2)])
    lines = headline.render_headline(res)
    assert ('| with_cp=False (none) | over limit | 16.2 | - | - | - | 0 / 2 |'
            in lines)
    assert ('| with_cp=True (whole blocks) | ok | 8.8 | - | 600 | 526 | '
            '2 / 2 |') in lines
    assert set(headline.HEADLINE_SETTINGS) == {
        'with_cp=False (none)', "with_cp='mlp' (frozen MLPs)",
        'with_cp=True (whole blocks)'}
