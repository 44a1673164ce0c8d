# MA-FSAR, CLIP ViT-B/16 (frozen, FgMA adapters), SSv2-Small (CMN split),
# 5-way 5-shot, OTAM.
_base_ = [
    '../_base_/models/mafsar_vit-b16.py', '../_base_/datasets/ssv2-small.py',
    '../_base_/schedules/adamw_iter.py', '../_base_/default_runtime.py'
]

_shots = dict(k_shot=5)
train_dataloader = dict(dataset=_shots)
val_dataloader = dict(dataset=_shots)
test_dataloader = dict(dataset=_shots)

max_iters = 20000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=max_iters // 20),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-6,
         by_epoch=False, begin=0, end=max_iters)
]
default_hooks = dict(checkpoint=dict(interval=max_iters // 10))
