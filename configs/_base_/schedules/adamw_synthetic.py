# The schedule of the baselines on the synthetic data
# (configs/baselines/*/*_synthetic.py): the quickstart's optimizer and
# warm-up (configs/mafsar/mafsar_vit-tiny_5w1s_synthetic.py: AdamW at 1e-3,
# 50 warm-up episodes, cosine decay) over 600 episodes instead of the
# quickstart's 400 (tools/analysis/compare_methods.py sets one budget for
# all methods on the command line).
# (Leaves set the checkpoint interval: default_hooks live in
# default_runtime.py.)
_base_ = ['./adamw_iter.py']
max_iters = 600
train_cfg = dict(max_iters=max_iters, val_interval=300)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=50),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-5,
         by_epoch=False, begin=0, end=max_iters)
]
