# protonet_vit-tiny_5w1s_synthetic.py on the temporal synthetic flavour (SSv2-like: only the motion
# names a class; make it with
# python tools/data/make_synthetic.py --flavour temporal).
_base_ = ['./protonet_vit-tiny_5w1s_synthetic.py']
_data = dict(dataset=dict(data_root='data/synthetic_temporal'))
train_dataloader = _data
val_dataloader = _data
test_dataloader = _data

# What val chose for this config in docs/synthetic_comparison.md (5-way
# 1-shot, class split 0, seed 0, 500 val episodes): learning rate 1e-4 (of
# 1e-3 and 1e-4), over the table's budget of 300 training episodes
# (warm-up 1/12 of them). tests/configs/test_val_choices.py pins these to
# the table, so that this config trains and tests the table's row.
max_iters = 300
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=25),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-5,
         by_epoch=False, begin=0, end=max_iters)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
