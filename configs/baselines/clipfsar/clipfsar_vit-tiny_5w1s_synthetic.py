# CLIP-FSAR on the pretrained tiny CLIP (visual tower fully fine-tuned, text
# frozen), synthetic data, 5-way 1-shot; the synthetic schedule shared by
# all methods.
_base_ = [
    '../../_base_/models/clipfsar_vit-b16.py',
    '../../_base_/models/clip_tiny.py',
    '../../_base_/datasets/synthetic_5w1s.py',
    '../../_base_/schedules/adamw_synthetic.py',
    '../../_base_/default_runtime.py'
]

# _delete_ drops the ViT-B/16 model_name/pretrained of the base model
clip = dict(
    _delete_=True,
    model_cfg={{_base_.clip_tiny.model_cfg}},
    pretrained={{_base_.clip_tiny.pretrained}})
model = dict(
    backbone=dict(clip=clip),
    text_encoder=dict(clip=clip),
    head=dict(
        neck=dict(in_channels=128, num_heads=8, ffn_channels=512)))
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=300, max_keep_ckpts=2))
