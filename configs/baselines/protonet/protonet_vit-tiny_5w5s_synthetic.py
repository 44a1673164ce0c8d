# ProtoNet (unimodal) on the pretrained tiny CLIP, fully fine-tuned, no text,
# synthetic data, 5-way 5-shot; the synthetic schedule shared by all
# methods.
_base_ = [
    '../../_base_/models/clip_visual_protonet.py',
    '../../_base_/models/clip_tiny.py',
    '../../_base_/datasets/synthetic_5w1s.py',
    '../../_base_/schedules/adamw_synthetic.py',
    '../../_base_/default_runtime.py'
]

# _delete_ drops the ViT-B/32 model_name/pretrained of the base model
clip = dict(
    _delete_=True,
    model_cfg={{_base_.clip_tiny.model_cfg}},
    pretrained={{_base_.clip_tiny.pretrained}})
model = dict(backbone=dict(clip=clip))

_shots = dict(k_shot=5)
train_dataloader = dict(dataset=_shots)
val_dataloader = dict(dataset=_shots)
test_dataloader = dict(dataset=_shots)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=300, max_keep_ckpts=2))
