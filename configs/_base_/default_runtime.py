default_scope = 'mmaction'
custom_imports = dict(imports=['mafsar_mm'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    # the schedules count iterations: validation scalars are logged at the
    # iteration (MMEngine's default, log_metric_by_epoch=True, logs them at
    # epoch 0 here)
    logger=dict(
        type='LoggerHook',
        interval=20,
        ignore_last=False,
        log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # MMEngine's CheckpointHook, but old checkpoints (max_keep_ckpts, the
    # previous best) are removed only once the new one is in place
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=1000,
        by_epoch=False,
        max_keep_ckpts=3,
        save_best='fewshot/acc',
        rule='greater',
        # checkpoints and last_checkpoint written atomically (a temporary
        # file renamed onto the final name): never a truncated file
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    # weights_only-loadable checkpoints; slim ones (no frozen CLIP) when the
    # CLIP has a pretrained source; one line for a missing, truncated or
    # unsafe file and a strict key/shape check on every load
    slim_checkpoint=dict(
        type='SlimCheckpointHook', slim='auto', check_keys=True),
    # --resume with a model/episode/optimizer config other than the
    # checkpoint's: one warning listing the differences (old -> new)
    resume_config_check=dict(type='ResumeConfigCheckHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # timeout: seconds a collective waits for the other ranks; a rank that
    # stops answering then ends the run with one line naming it
    dist_cfg=dict(backend='nccl', timeout=1800))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)
# vis_data/scalars.json: plot it with tools/analysis/analyze_logs.py;
# `tools/train.py --tensorboard` adds MMEngine's TensorboardVisBackend
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

# `tools/train.py --auto-scale-lr` scales the learning rate by
# (processes x episodes per process) / base_batch_size, MMEngine's linear
# rule; the schedules' learning rates are set for one episode per step.
auto_scale_lr = dict(enable=False, base_batch_size=1)
