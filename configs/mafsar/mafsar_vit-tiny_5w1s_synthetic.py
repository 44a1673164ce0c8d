# Quickstart: MA-FSAR on the pretrained tiny CLIP (frozen) and the spatial
# synthetic data, 5-way 1-shot. Runs on 2 CPU cores in a few minutes.
_base_ = [
    '../_base_/models/mafsar_vit-b16.py', '../_base_/models/clip_tiny.py',
    '../_base_/datasets/synthetic_5w1s.py',
    '../_base_/schedules/adamw_iter.py', '../_base_/default_runtime.py'
]
# _delete_ drops the ViT-B/16 model_name/pretrained of the base model
clip = dict(
    _delete_=True,
    model_cfg={{_base_.clip_tiny.model_cfg}},
    pretrained={{_base_.clip_tiny.pretrained}})
model = dict(
    backbone=dict(clip=clip, num_frames=8),
    text_encoder=dict(clip=clip),
    head=dict(
        neck=dict(in_channels=128, num_heads=8, ffn_channels=512)))

max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=200)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=50),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-5,
         by_epoch=False, begin=0, end=max_iters)
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=200, max_keep_ckpts=2))
