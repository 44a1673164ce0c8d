# AdamW for 1000 episodes per process: linear warm-up over the first 5%,
# cosine decay, validation every 10%.
_base_ = ['./adamw_iter.py']
max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=max_iters // 20),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-6,
         by_epoch=False, begin=0, end=max_iters)
]
