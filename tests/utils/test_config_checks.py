"""check_config: every wrong type or key of a run's config is one line,
naming its key path and the closest valid names, before anything is
built (issue 23 items 7 and 11)."""
import copy
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.hooks import CheckpointHook

import mafsar_mm  # noqa: F401
from mafsar_mm.utils.config_checks import check_config
from mafsar_mm.utils.errors import InputError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = osp.join(REPO, 'configs', 'mafsar',
                      'mafsar_vit-tiny_5w1s_synthetic.py')
MATCHERS = 'BiMHMMatcher, OTAMMatcher, ProtoMatcher, TRXMatcher'


@pytest.fixture(scope='module')
def quickstart() -> Config:
    return Config.fromfile(QUICKSTART)


def _error(cfg: Config, **options) -> str:
    """The message of check_config on ``cfg`` with ``--cfg-options``."""
    cfg = copy.deepcopy(cfg)
    cfg.merge_from_dict(options)
    with pytest.raises(InputError) as info:
        check_config(cfg)
    return str(info.value)


@pytest.mark.parametrize('config', [
    'mafsar_ssv2_5w1s.py',
    'mafsar/mafsar_vit-tiny_5w1s_synthetic.py',
    'mafsar/mafsar_vit-b32_5w1s_ssv2-small_trx.py',
    'baselines/clipfsar/clipfsar_vit-b16_5w5s_ssv2-full.py',
    'baselines/trx/trx_vit-b32_5w1s_ssv2-full_trx-recipe.py',
    'baselines/protonet/protonet_vit-tiny_5w1s_synthetic.py',
    'baselines/bimhm/bimhm_vit-b32_5w1s_kinetics100.py',
    'baselines/otam/otam_vit-b32_5w5s_ssv2-small.py',
])
def test_the_configs_pass(config):
    """No false alarm on real configs (every method, shot and recipe
    kind; CLIP-FSAR's neck takes its parent's options through
    ``**kwargs``)."""
    check_config(Config.fromfile(osp.join(REPO, 'configs', config)))


def test_model(quickstart):
    assert _error(quickstart, **{
        'model.head.alph': 1
    }) == ('model.head.alph is not an option of FewShotHead; did you mean '
           'alpha?')
    assert _error(quickstart, **{'model.head.matcher.type': 'NoSuchMatcher'
                                 }) == ("model.head.matcher.type='NoSuch"
                                        "Matcher' is not registered; closest:"
                                        f' ProtoMatcher, TRXMatcher (all: '
                                        f'{MATCHERS})')
    assert _error(quickstart, **{
        'model.backbone.num_frame': 4
    }) == ('model.backbone.num_frame is not an option of CLIPViTFgMA; did you '
           'mean num_frames?')
    assert _error(quickstart, **{
        'model.head.neck.typo': 1
    }) == ('model.head.neck.typo is not an option of TPCM; did you mean type?')
    assert _error(quickstart, **{
        'model.type': 'FewShotRecogniser'
    }) == ("model.type='FewShotRecogniser' is not registered; closest: "
           'FewShotRecognizer, Recognizer3D, Recognizer2D (all: '
           'FewShotRecognizer, MMRecognizer3D, '
           'Recognizer2D, Recognizer3D, RecognizerAudio, RecognizerGCN, '
           'RecognizerOmni)')
    assert _error(quickstart, **{'model.head.matcher.type': 3}) == (
        'model.head.matcher.type must be a name of the model registry, not 3')
    # no close name: the options are listed
    assert _error(quickstart,
                  **{'model.data_preprocessor.zzz':
                     1}) == ('model.data_preprocessor.zzz is not an option of '
                             'FewShotDataPreprocessor; its options: mean, std')


def test_datasets_pipelines_samplers_and_loaders(quickstart):
    assert _error(quickstart, **{
        'train_dataloader.dataset.nway': 5
    }) == ('train_dataloader.dataset.nway is not an option of '
           'FewShotVideoDataset; did you mean n_way?')
    assert _error(quickstart, **{
        'val_dataloader.dataset.type': 'FewShotDataset'
    }).startswith("val_dataloader.dataset.type='FewShotDataset' is not "
                  'registered; closest: FewShotVideoDataset, VideoDataset, '
                  'VideoTextDataset (all: AVADataset, ')
    assert _error(quickstart, **{
        'test_dataloader.dataset.pipeline.1.clip_le': 1
    }) == ('test_dataloader.dataset.pipeline.1.clip_le is not an option of '
           'UniformSample; did you mean clip_len?')
    assert _error(quickstart, **{
        'test_dataloader.dataset.pipeline.0.type': 'DecordInt'
    }).startswith("test_dataloader.dataset.pipeline.0.type="
                  "'DecordInt' is not registered; closest: "
                  'DecordInit, AudioDecodeInit (85 names in the '
                  'transform registry)')
    assert _error(quickstart, **{'train_dataloader.sampler.shufle': 1}) == (
        'train_dataloader.sampler.shufle is not an option of EpisodeSampler;'
        ' did you mean shuffle?')
    # (DataLoader's own arguments differ between torch versions)
    assert _error(quickstart, **{
        'train_dataloader.num_worker': 1
    }).startswith(
        'train_dataloader.num_worker is not an option of DataLoader; did you'
        ' mean num_workers')


def test_loops(quickstart):
    assert _error(quickstart, **{'test_cfg.feature_cach': False}) == (
        'test_cfg.feature_cach is not an option of FewShotTestLoop; did you '
        'mean feature_cache?')
    assert _error(quickstart, **{
        'val_cfg.encode_batchsize': 2
    }) == ('val_cfg.encode_batchsize is not an option of FewShotValLoop; did '
           'you mean encode_batch_size?')
    assert _error(quickstart, **{
        'train_cfg.max_iter': 3
    }).startswith(
        'train_cfg.max_iter is not an option of EpisodicTrainLoop; did you '
        'mean max_iters')
    assert _error(quickstart, **{
        'train_cfg.type': 'EpisodeTrainLoop'
    }).startswith("train_cfg.type='EpisodeTrainLoop' is "
                  'not registered; closest: Episodic'
                  'TrainLoop')
    # MMEngine's loops without a type
    cfg = copy.deepcopy(quickstart)
    cfg.train_cfg = dict(by_epoch=False, max_iters=3, val_interval=2)
    cfg.val_cfg = dict()
    check_config(cfg)
    assert _error(cfg, **{
        'train_cfg.max_epoch': 2
    }).startswith('train_cfg.max_epoch is not an option of IterBasedTrainLoop')
    assert _error(cfg, **{
        'val_cfg.fp61': True
    }) == ('val_cfg.fp61 is not an option of ValLoop; did you mean fp16?')


def test_evaluators(quickstart):
    assert _error(quickstart, **{
        'val_evaluator.collect_devise': 'cpu'
    }) == ('val_evaluator.collect_devise is not an option of FewShotAccuracy; '
           'did you mean collect_device?')
    cfg = copy.deepcopy(quickstart)
    cfg.test_evaluator = [
        dict(type='FewShotAccuracy'),
        dict(type='DumpResults', out_file='x.pkl')
    ]
    assert _error(cfg) == ('test_evaluator.1.out_file is not an option of '
                           'DumpResults; did you mean out_file_path?')


def test_hooks(quickstart):
    """CheckpointHook takes unknown keys (its **kwargs) and passes them to
    Runner.save_checkpoint at the first save, which fails: they are
    refused at start."""
    CheckpointHook(interval=3, intervl=3)  # MMEngine accepts the typo
    assert _error(quickstart, **{
        'default_hooks.checkpoint.intervl': 3
    }) == ('default_hooks.checkpoint.intervl is not an option of '
           'AtomicCheckpointHook; did you mean interval?')
    # what the hook gives save_checkpoint itself is no option either
    assert _error(quickstart, **{
        'default_hooks.checkpoint.meta': {}
    }) == ('default_hooks.checkpoint.meta is not an option of '
           'AtomicCheckpointHook; its options: backend_args, by_epoch, '
           'file_client_args, filename_tmpl, greater_keys, interval, '
           'less_keys, max_keep_ckpts, out_dir, priority, published_keys, '
           'rule, save_begin, save_best, save_last, save_optimizer, '
           'save_param_scheduler')
    assert _error(quickstart, **{
        'default_hooks.slim_checkpoint.slimm': 1
    }) == ('default_hooks.slim_checkpoint.slimm is not an option of '
           'SlimCheckpointHook; did you mean slim?')
    assert _error(quickstart, **{
        'default_hooks.logger.type': 'Loger'
    }).startswith("default_hooks.logger.type='Loger' is "
                  'not registered; closest: LoggerHook '
                  '(all: AtomicCheckpointHook, CheckpointHook, ')
    # a misspelt hook name adds an entry without a type
    assert _error(quickstart, **{
        'default_hooks.checkpint.interval': 3
    }) == ('default_hooks.checkpint has no type; did you mean '
           'default_hooks.checkpoint?')
    assert _error(quickstart, **{
        'default_hooks.zzz.interval': 3
    }) == ('default_hooks.zzz has no type (a name of the hook registry, e.g. '
           'default_hooks.zzz.type=...)')
    cfg = copy.deepcopy(quickstart)
    cfg.custom_hooks = [
        dict(type='EmptyCacheHook', after_iter=True, priority=49)
    ]
    check_config(cfg)  # `priority` is read by the Runner
    cfg.custom_hooks[0]['after_itr'] = True
    assert _error(cfg) == (
        'custom_hooks.0.after_itr is not an option of '
        'EmptyCacheHook; did you mean after_iter or after_epoch?')
    # EMAHook passes its **kwargs to the averaged model: any key passes
    cfg.custom_hooks = [dict(type='EMAHook', momentum=0.1)]
    check_config(cfg)


def test_optimizer_wrapper_and_schedulers(quickstart):
    assert _error(quickstart, **{
        'optim_wrapper.optimizer.lrr': 1
    }) == ('optim_wrapper.optimizer.lrr is not an option of AdamW; did you '
           'mean lr?')
    assert _error(quickstart, **{
        'optim_wrapper.clipgrad': None
    }) == ('optim_wrapper.clipgrad is not an option of OptimWrapper; did you '
           'mean clip_grad?')
    assert _error(quickstart, **{'optim_wrapper.paramwise_cfg.norm_decay':
                                 0}) == ('optim_wrapper.paramwise_cfg.norm_'
                                         'decay is not an option of Default'
                                         'OptimWrapperConstructor; did you '
                                         'mean norm_decay_mult?')
    assert _error(quickstart, **{
        'optim_wrapper.constructor': 'DefaultConstructor'
    }) == ("optim_wrapper.constructor='DefaultConstructor' is not "
           'registered; closest: DefaultOptimWrapperConstructor (all: '
           'DefaultOptimWrapperConstructor, LearningRateDecayOptimizer'
           'Constructor, SwinOptimWrapperConstructor, TSMOptimWrapper'
           'Constructor)')
    # AmpOptimWrapper passes **kwargs on to OptimWrapper: both kinds pass
    cfg = copy.deepcopy(quickstart)
    cfg.optim_wrapper.update(type='AmpOptimWrapper', loss_scale='dynamic')
    check_config(cfg)
    assert _error(cfg, **{
        'optim_wrapper.loss_scal': 1
    }) == ('optim_wrapper.loss_scal is not an option of AmpOptimWrapper; did '
           'you mean loss_scale?')
    assert _error(quickstart, **{
        'param_scheduler.1.T_mx': 3
    }) == ('param_scheduler.1.T_mx is not an option of CosineAnnealingLR; did '
           'you mean T_max?')


def test_runner_settings(quickstart):
    assert _error(quickstart, **{
        'randomness.sed': 1
    }) == ('randomness.sed is not an option of Runner.set_randomness; did you '
           'mean seed?')
    assert _error(quickstart, **{'log_processor.window': 2}) == (
        'log_processor.window is not an option of LogProcessor; did you mean'
        ' window_size?')
    assert _error(quickstart, **{
        'visualizer.vis_backends.0.save': 'x'
    }).startswith('visualizer.vis_backends.0.save is not '
                  'an option of LocalVisBackend')
