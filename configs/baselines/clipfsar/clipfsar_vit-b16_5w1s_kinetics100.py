# CLIP-FSAR, CLIP ViT-B/16 fully fine-tuned + frozen text,
# Kinetics-100 (CMN split), 5-way 1-shot; CLIP-FSAR's recipe
# (configs/_base_/models/clipfsar_vit-b16.py).
_base_ = [
    '../../_base_/models/clipfsar_vit-b16.py',
    '../../_base_/datasets/kinetics100.py',
    '../../_base_/schedules/adam_steps_kinetics100.py',
    '../../_base_/default_runtime.py'
]

# text loss weight USE_CLASSIFICATION_VALUE = 1.5
model = dict(head=dict(text_loss=dict(loss_weight=1.5)))
