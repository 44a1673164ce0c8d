# What val chose for the 5-way 1-shot temporal synthetic configs in
# docs/synthetic_comparison.md (class split 0, seed 0, 500 val episodes):
# learning rate 1e-4 (of 1e-3 and 1e-4) for every method, over the table's
# budget of 300 training episodes (warm-up 1/12 of them, cosine decay).
# A config reads it as {{_base_.val_chosen.train_cfg}} and so on (one key,
# so it can sit beside a schedule base); tests/configs/test_val_choices.py
# pins the configs to the table.
_iters = 300
val_chosen = dict(
    train_cfg=dict(max_iters=_iters, val_interval=_iters),
    optim_wrapper=dict(optimizer=dict(lr=1e-4)),
    param_scheduler=[
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
             end=25),
        dict(type='CosineAnnealingLR', T_max=_iters, eta_min=1e-5,
             by_epoch=False, begin=0, end=_iters)
    ],
    default_hooks=dict(checkpoint=dict(interval=_iters)))
