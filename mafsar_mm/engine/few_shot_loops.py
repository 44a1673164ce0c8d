"""Validation and test loops with cached per-video encoder features."""
import time
from typing import Dict, List, Union

from mmaction.registry import LOOPS
from mmengine.hooks import IterTimerHook
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop, ValLoop
from torch.utils.data import DataLoader

from mafsar_mm.datasets import log_batch_bad_videos
from .episode_feature_cache import EpisodeFeatureCache


def run_cached(loop, stage: str) -> dict:
    """Run a val/test loop from an :class:`EpisodeFeatureCache`.

    Calls the same hooks as MMEngine's loops, one iteration per episode,
    and runs the model under the same ``autocast`` (the loop's ``fp16``).

    Args:
        loop (ValLoop | TestLoop): The loop.
        stage (str): ``'val'`` or ``'test'`` (hook names).

    Returns:
        dict: The metrics.
    """
    runner = loop.runner
    runner.call_hook(f'before_{stage}')
    runner.call_hook(f'before_{stage}_epoch')
    runner.model.eval()
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    dataset = loop.dataloader.dataset
    cache = EpisodeFeatureCache(
        model,
        dataset,
        batch_size=loop.encode_batch_size,
        num_workers=loop.dataloader.num_workers,
        fp16=loop.fp16).build()
    _restart_iter_timers(runner)
    for idx, episode_id in enumerate(loop.dataloader.sampler):
        runner.call_hook(f'before_{stage}_iter', batch_idx=idx,
                         data_batch={})
        outputs = [cache.predict_episode(episode_id)]
        loop.evaluator.process(data_samples=outputs, data_batch={})
        runner.call_hook(
            f'after_{stage}_iter',
            batch_idx=idx,
            data_batch={},
            outputs=outputs)
    metrics = loop.evaluator.evaluate(len(dataset))
    runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
    runner.call_hook(f'after_{stage}')
    return metrics


def _restart_iter_timers(runner) -> None:
    """Start the iteration clocks of the runner's ``IterTimerHook`` now.

    The hook starts its clock in ``before_{val,test}_epoch``; without this
    the feature encoding would count as the first episode's data time and
    the first logged ETA would be that time multiplied by the number of
    episodes left (quickstart validation, 100 episodes after encoding 120
    videos: 0:06:27 at episode 2 instead of 0:00:01).
    """
    for hook in runner.hooks:
        if isinstance(hook, IterTimerHook):
            hook.t = time.time()


class _FeatureCacheLoop:
    """Shared part of :class:`FewShotValLoop` and :class:`FewShotTestLoop`:
    the cache options and the choice between the cached and plain runs."""
    stage = ''

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 fp16: bool = False,
                 feature_cache: bool = True,
                 encode_batch_size: int = 8) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.feature_cache = feature_cache
        self.encode_batch_size = encode_batch_size

    def run(self) -> dict:
        if not self.feature_cache:
            return super().run()
        return run_cached(self, self.stage)

    def run_iter(self, idx: int, data_batch) -> None:
        """Log the batch's replaced bad videos once per run, then run
        the iteration (plain path)."""
        log_batch_bad_videos(data_batch)
        super().run_iter(idx, data_batch)


@LOOPS.register_module()
class FewShotValLoop(_FeatureCacheLoop, ValLoop):
    """``ValLoop`` that can evaluate episodes from cached features.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Episode dataloader.
        evaluator (Evaluator | dict | list): Metrics.
        fp16 (bool): Mixed precision: the model runs under MMEngine's
            ``autocast`` (float16 on GPU, bfloat16 on CPU), in the cached
            path as in the plain one. Defaults to False.
        feature_cache (bool): Encode every video once and run only the
            head per episode (same results as the plain path). Defaults to
            True.
        encode_batch_size (int): Videos per encoder call when caching.
            Defaults to 8.
    """
    stage = 'val'


@LOOPS.register_module()
class FewShotTestLoop(_FeatureCacheLoop, TestLoop):
    """``TestLoop`` that can evaluate episodes from cached features.

    Args are those of :class:`FewShotValLoop`.
    """
    stage = 'test'
