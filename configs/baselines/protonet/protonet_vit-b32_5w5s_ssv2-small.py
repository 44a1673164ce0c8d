# ProtoNet (unimodal), CLIP ViT-B/32 fully fine-tuned, no text,
# SSv2-Small (CMN split), 5-way 5-shot; CLIP-FSAR's training recipe.
_base_ = [
    '../../_base_/models/clip_visual_protonet.py',
    '../../_base_/datasets/ssv2-small.py',
    '../../_base_/schedules/adam_steps_ssv2-small.py',
    '../../_base_/default_runtime.py'
]

clip = dict(model_name='ViT-B-32', pretrained='openai')
model = dict(backbone=dict(clip=clip))

_shots = dict(k_shot=5)
train_dataloader = dict(dataset=_shots)
val_dataloader = dict(dataset=_shots)
test_dataloader = dict(dataset=_shots)
