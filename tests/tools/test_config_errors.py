"""tools/train.py and tools/test.py stop on a wrong type or key of a real
config with one ``error:`` line, before the work dir, the model or the
checkpoint is touched (issue 23 items 7 and 11)."""
import os
import os.path as osp
import runpy
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
TEST = osp.join(REPO, 'tools', 'test.py')
QUICKSTART = osp.join(REPO, 'configs', 'mafsar',
                      'mafsar_vit-tiny_5w1s_synthetic.py')
# ViT-B/16 from pretrained='openai': building it here (offline) would stop
# on the missing CLIP weights, so its typo errors show the check ran first
HEADLINE = osp.join(REPO, 'configs', 'mafsar_ssv2_5w1s.py')


def _run(tool, args, capsys, monkeypatch):
    """Run a tool in this process; its exit status and stderr."""
    monkeypatch.delenv('MAFSAR_DEBUG', raising=False)
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setattr(sys, 'argv', [tool] + list(args))
    with pytest.raises(SystemExit) as info:
        runpy.run_path(tool, run_name='__main__')
    return info.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    'option, line',
    [
        ('model.head.matcher.type=NoSuchMatcher',
         "model.head.matcher.type='NoSuchMatcher' is not registered; closest: "
         'ProtoMatcher, TRXMatcher (all: BiMHMMatcher, OTAMMatcher, '
         'ProtoMatcher, TRXMatcher)'),
        ('train_dataloader.dataset.nway=5',
         'train_dataloader.dataset.nway is not an option of '
         'FewShotVideoDataset; did you mean n_way?'),
        # item 7: MMEngine would accept it and fail at the first save
        ('default_hooks.checkpoint.intervl=3',
         'default_hooks.checkpoint.intervl is not an option of '
         'AtomicCheckpointHook; did you mean interval?'),
    ])
def test_train_stops_at_start(option, line, tmp_path, capsys, monkeypatch):
    work = tmp_path / 'work'
    code, err = _run(
        TRAIN, [QUICKSTART, '--work-dir',
                str(work), '--cfg-options', option], capsys, monkeypatch)
    assert (code, err) == (1, f'error: {line}\n')
    assert not work.exists()  # no lock, no log, nothing trained


def test_train_checks_before_building_the_model(tmp_path, capsys, monkeypatch):
    code, err = _run(TRAIN, [
        HEADLINE, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', 'model.head.alph=0.3'
    ], capsys, monkeypatch)
    assert (code, err) == (1, 'error: model.head.alph is not an option of '
                           'FewShotHead; did you mean alpha?\n')


@pytest.mark.parametrize('config', [QUICKSTART, HEADLINE])
def test_test_tool_stops_at_start(config, tmp_path, capsys, monkeypatch):
    """Before the (here missing) checkpoint is read or an output folder
    is made."""
    code, err = _run(TEST, [
        config,
        str(tmp_path / 'missing.pth'), '--work-dir',
        str(tmp_path / 'work'), '--dump-metrics',
        str(tmp_path / 'out' / 'metrics.json'), '--cfg-options',
        'test_cfg.feature_cach=0'
    ], capsys, monkeypatch)
    assert (code, err) == (1, 'error: test_cfg.feature_cach is not an option'
                           ' of FewShotTestLoop; did you mean '
                           'feature_cache?\n')
    assert not (tmp_path / 'work').exists()
    assert not (tmp_path / 'out').exists()  # nor the output's folder


def test_the_whole_stderr_is_one_line():
    """In a fresh process (the registries' modules imported for the
    message say nothing either)."""
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    env.pop('MAFSAR_DEBUG', None)
    done = subprocess.run([
        sys.executable, TRAIN, HEADLINE, '--cfg-options',
        'model.head.matcher.type=NoSuchMatcher'
    ],
                          capture_output=True,
                          text=True,
                          env=env,
                          timeout=300)
    assert (done.returncode, done.stderr) == (
        1, "error: model.head.matcher.type='NoSuchMatcher' is not "
        'registered; closest: ProtoMatcher, TRXMatcher (all: BiMHMMatcher, '
        'OTAMMatcher, ProtoMatcher, TRXMatcher)\n')
