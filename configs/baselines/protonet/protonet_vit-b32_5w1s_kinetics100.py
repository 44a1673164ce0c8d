# ProtoNet (unimodal), CLIP ViT-B/32 fully fine-tuned, no text,
# Kinetics-100 (CMN split), 5-way 1-shot; CLIP-FSAR's training recipe.
_base_ = [
    '../../_base_/models/clip_visual_protonet.py',
    '../../_base_/datasets/kinetics100.py',
    '../../_base_/schedules/adam_steps_kinetics100.py',
    '../../_base_/default_runtime.py'
]

clip = dict(model_name='ViT-B-32', pretrained='openai')
model = dict(backbone=dict(clip=clip))
