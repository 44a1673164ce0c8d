"""The tools' console: progress and results only, the environment, config,
hook order and warnings in the log file (``mafsar_mm/utils/console.py``);
``--verbose`` restores MMEngine's console; the first cached-validation ETA
does not count the feature encoding; ``tools/analysis/eval_metric.py``
recomputes ``tools/test.py``'s metrics from its ``--dump``."""
import copy
import glob
import json
import logging
import os.path as osp
import re
import sys

import pytest
from mmengine.logging import MMLogger

from mafsar_mm.utils.console import (FILE_ONLY_PREFIXES, ConsoleFilter,
                                     quiet_logger)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests', 'engine'))
from _reliability import micro_config  # noqa: E402

sys.path.insert(0, osp.join(REPO, 'tests'))
from conftest import load_tool, run_tool  # noqa: E402

#: what only the log file shows (MMEngine's dumps, mmcv's import warning)
DUMPS = ('System environment:', 'Config:', 'Hooks will be executed',
         '"FileClient" will be deprecated')
#: never on the console (mmcv-lite's import warning: no longer raised since
#: importing mafsar_mm stopped loading mmaction.models, so not in the log
#: either)
NOT_ON_CONSOLE = DUMPS + ('MultiScaleDeformableAttention', )


def _log_text(folder: str) -> str:
    logs = glob.glob(osp.join(folder, '*', '*.log'))
    assert len(logs) == 1, logs
    with open(logs[0]) as f:
        return f.read()


@pytest.fixture(scope='module')
def trained(synthetic_root, tmp_path_factory):
    """A 2-iteration training run with a cached validation, then a
    verbose test with ``--dump`` and ``--dump-metrics``."""
    root = tmp_path_factory.mktemp('quiet')
    work = str(root / 'work')
    cfg = micro_config(synthetic_root, work, max_iters=2)
    val = copy.deepcopy(cfg.test_dataloader)
    cfg.val_dataloader = val
    cfg.val_cfg = dict(type='FewShotValLoop', feature_cache=True)
    cfg.val_evaluator = dict(type='FewShotAccuracy')
    cfg.train_cfg.val_interval = 2
    config = str(root / 'micro.py')
    cfg.dump(config)
    train = run_tool('tools/train.py', config)
    assert train.returncode == 0, train.stderr[-3000:]
    dump, metrics = str(root / 'preds.pkl'), str(root / 'metrics.json')
    test = run_tool('tools/test.py', config,
                    osp.join(work, 'iter_2.pth'), '--work-dir',
                    str(root / 'test'), '--dump', dump, '--dump-metrics',
                    metrics, '--verbose')
    assert test.returncode == 0, test.stderr[-3000:]
    return dict(
        config=config, work=work, train=train, test=test, dump=dump,
        metrics=metrics, test_dir=str(root / 'test'))


@pytest.mark.slow  # with the fixture: two tool runs, about 35 s
def test_training_console_is_progress_and_results(trained):
    out, err = trained['train'].stdout, trained['train'].stderr
    for text in NOT_ON_CONSOLE:
        assert text not in out + err, text
    assert 'Iter(train) [2/2]' in out
    assert re.search(r'Few-shot accuracy: [\d.]+ \+/- [\d.]+ %', out)
    assert err == ''
    log = _log_text(trained['work'])
    for text in DUMPS:
        assert text in log, text
    assert 'Iter(train) [2/2]' in log


def test_verbose_prints_the_dumps(trained):
    out = trained['test'].stdout + trained['test'].stderr
    for text in ('System environment:', 'Config:',
                 'Hooks will be executed'):
        assert text in out, text
    assert 'System environment:' in _log_text(trained['test_dir'])


def test_first_validation_eta_excludes_the_feature_encoding(trained):
    """The encoding of the val videos happens before the first episode;
    it used to be that episode's data time (and its ETA times the
    episodes left)."""
    first = next(line for line in trained['train'].stdout.splitlines()
                 if 'Iter(val) [1/6]' in line)
    data_time = float(re.search(r'data_time: ([\d.]+)', first).group(1))
    assert data_time < 0.05, first


def _eval_tool():
    return load_tool('tools/analysis/eval_metric.py')


def test_eval_metric_equals_test_metrics(trained, tmp_path, monkeypatch,
                                         capsys):
    tool = _eval_tool()
    out_json = str(tmp_path / 'offline.json')
    monkeypatch.setattr(sys, 'argv', [
        'eval_metric.py', trained['config'], trained['dump'], '--json',
        out_json
    ])
    tool.main()
    with open(trained['metrics']) as f:
        online = json.load(f)
    with open(out_json) as f:
        offline = json.load(f)
    assert online['fewshot/episodes'] == 6
    assert offline == online
    out = capsys.readouterr().out  # the metric's line, then the JSON
    assert json.loads(out[out.index('{'):]) == online


def test_eval_metric_refuses_what_is_not_a_dump(tmp_path):
    from mafsar_mm.utils.errors import InputError
    tool = _eval_tool()
    text = tmp_path / 'notes.pkl'
    text.write_text('not a pickle')
    with pytest.raises(InputError, match='is not a pickle of predictions'):
        tool.load_samples(str(text))
    with pytest.raises(InputError, match='no such file'):
        tool.load_samples(str(tmp_path / 'missing.pkl'))
    import pickle
    other = tmp_path / 'other.pkl'
    other.write_bytes(pickle.dumps({'a': 1}))
    with pytest.raises(InputError, match='holds no predictions'):
        tool.load_samples(str(other))


def test_console_filter_on_a_logger(tmp_path, capsys):
    log_file = str(tmp_path / 'run.log')
    logger = MMLogger.get_instance(
        'quiet_console_unit', log_file=log_file, file_mode='w')
    quiet_logger(logger)
    quiet_logger(logger)  # idempotent: one filter per console handler
    console = [
        h for h in logger.handlers if not isinstance(h, logging.FileHandler)
    ]
    assert [sum(isinstance(f, ConsoleFilter) for f in h.filters)
            for h in console] == [1]
    for prefix in FILE_ONLY_PREFIXES:
        logger.info(prefix + ' ...')
    logger.info('file only', extra=dict(console=False))
    logger.info('Iter(train) [1/2] loss: 1.0')
    out = capsys.readouterr().out
    for handler in logger.handlers:
        handler.flush()
    with open(log_file) as f:
        log = f.read()
    assert 'Iter(train) [1/2]' in out and 'Iter(train) [1/2]' in log
    assert 'file only' not in out and 'file only' in log
    for prefix in FILE_ONLY_PREFIXES:
        assert prefix.strip().splitlines()[-1] not in out
        assert prefix.strip().splitlines()[-1] in log


def test_setup_console_holds_warnings_and_is_undone(tmp_path, capsys):
    import warnings

    from mafsar_mm.utils.console import (WARNINGS_LOGGER, console_session,
                                         setup_console)
    warnings_logger = logging.getLogger(WARNINGS_LOGGER)
    handlers = list(warnings_logger.handlers)
    showwarning = warnings.showwarning
    log_file = str(tmp_path / 'run.log')
    with console_session():
        setup_console(False)
        with warnings.catch_warnings():
            warnings.simplefilter('always')
            warnings.warn('held for the log file', UserWarning)
        assert 'held for the log file' not in capsys.readouterr().err
        logger = MMLogger.get_instance(
            'quiet_console_warnings', log_file=log_file, file_mode='w')
        quiet_logger(logger)  # the held warning reaches the file
        for handler in logger.handlers:
            handler.flush()
        with open(log_file) as f:
            assert 'UserWarning: held for the log file' in f.read()
    assert warnings_logger.handlers == handlers
    assert warnings_logger.propagate
    assert warnings.showwarning is showwarning  # pytest's, here
