# Iteration (= episode) based schedule: AdamW with linear warm-up and cosine
# decay. Only parameters with requires_grad (adapters, Text FCs, TPCM,
# head) are updated; the frozen CLIP gets no gradient buffers.
max_iters = 10000
train_cfg = dict(
    type='EpisodicTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict(type='FewShotValLoop', feature_cache=True)
test_cfg = dict(type='FewShotTestLoop', feature_cache=True)

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=0.01),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-6,
         by_epoch=False, begin=0, end=max_iters)
]
