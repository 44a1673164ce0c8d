# protonet_vit-tiny_5w1s_synthetic.py on the temporal synthetic flavour (SSv2-like: only the motion
# names a class; make it with
# python tools/data/make_synthetic.py --flavour temporal).
_base_ = [
    './protonet_vit-tiny_5w1s_synthetic.py',
    '../../_base_/schedules/val_chosen_synthetic-temporal_5w1s.py'
]
_data = dict(dataset=dict(data_root='data/synthetic_temporal'))
train_dataloader = _data
val_dataloader = _data
test_dataloader = _data

# the learning rate and budget val chose (the base's comment)
train_cfg = {{_base_.val_chosen.train_cfg}}
optim_wrapper = {{_base_.val_chosen.optim_wrapper}}
param_scheduler = {{_base_.val_chosen.param_scheduler}}
default_hooks = {{_base_.val_chosen.default_hooks}}
