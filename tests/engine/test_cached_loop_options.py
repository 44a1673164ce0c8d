"""The cached test loop under mixed precision and in text-only mode,
through MMEngine's Runner and ``tools/test.py``."""
import re

import pytest
import torch
from _reliability import micro_config
from conftest import run_tool
from mmaction.registry import DATASETS, MODELS
from mmengine.hooks import Hook
from mmengine.runner import Runner
from random_checkpoint import save_random_checkpoint

import mafsar_mm  # noqa: F401
from mafsar_mm.engine import EpisodeFeatureCache
from mafsar_mm.evaluation import mean_and_ci95

TEST_TOOL = 'tools/test.py'


class _Collect(Hook):
    """Keep the predicted scores of every test episode."""

    def __init__(self) -> None:
        self.scores = []

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None) -> None:
        self.scores += [s.pred_scores.float().cpu() for s in outputs]


@pytest.fixture(scope='module')
def checkpoint(synthetic_root, tmp_path_factory):
    path = str(tmp_path_factory.mktemp('amp') / 'model.pth')
    save_random_checkpoint(micro_config(synthetic_root, '.'), path)
    return path


def _run_test(synthetic_root, work_dir, ckpt, fp16):
    """Scores of the cached test loop and the backbone's output dtypes."""
    cfg = micro_config(synthetic_root, work_dir)
    assert cfg.test_cfg.feature_cache
    cfg.test_cfg.fp16 = fp16
    cfg.load_from = ckpt
    cfg.experiment_name = f'amp_{fp16}'
    runner = Runner.from_cfg(cfg)
    dtypes = set()
    runner.model.backbone.register_forward_hook(
        lambda module, args, out: dtypes.add(out.dtype))
    collect = _Collect()
    runner.register_hook(collect)
    runner.test()
    return torch.stack(collect.scores), dtypes


def test_cached_loop_honours_fp16(synthetic_root, tmp_path, checkpoint):
    fp32, dtypes32 = _run_test(synthetic_root, str(tmp_path / 'fp32'),
                               checkpoint, False)
    bf16, dtypes16 = _run_test(synthetic_root, str(tmp_path / 'bf16'),
                               checkpoint, True)
    # on CPU MMEngine's autocast is bfloat16
    assert dtypes32 == {torch.float32}
    assert dtypes16 == {torch.bfloat16}
    assert not torch.equal(fp32, bf16)  # the path really changed
    torch.testing.assert_close(bf16, fp32, rtol=0, atol=0.02)


def test_text_only_flag_of_tools_test(synthetic_root, tmp_path, checkpoint):
    cfg = micro_config(synthetic_root, str(tmp_path / 'work'))
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    proc = run_tool(
        TEST_TOOL, config, checkpoint, '--text-only', cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    found = re.findall(r'Few-shot accuracy: ([\d.]+) \+/- ([\d.]+) %',
                       proc.stdout + proc.stderr)
    assert len(found) == 1
    # the same scores from the text-mode model's own prediction path
    cfg.model.head.predict_mode = 'text'
    model = MODELS.build(cfg.model)
    model.load_state_dict(torch.load(checkpoint)['state_dict'])
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    cache = EpisodeFeatureCache(model.eval(), dataset).build()
    assert cache.encoder_passes == len(dataset.video_list())  # no support
    accs = []
    for episode_id in range(len(dataset)):
        sample = cache.predict_episode(episode_id)
        accs.append(
            float((sample.pred_labels == sample.query_labels).float().mean()))
    mean, ci95 = mean_and_ci95(accs)
    assert found[0] == (f'{100 * mean:.2f}', f'{100 * ci95:.2f}')


def test_text_only_needs_a_text_encoder(synthetic_root, tmp_path):
    cfg = micro_config(synthetic_root, str(tmp_path / 'work'))
    cfg.model.text_encoder = None
    cfg.model.head.alpha = 0.0
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    proc = run_tool(TEST_TOOL, config, 'none.pth', '--text-only')
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        '--text-only scores the queries against the class names, but this '
        'config has no model.text_encoder.'
    ]
    cfg.model.head.predict_mode = 'text'
    with pytest.raises(ValueError, match='has no text_encoder'):
        MODELS.build(cfg.model)
