# CLIP-FSAR, CLIP ViT-B/16 fully fine-tuned + frozen text,
# HMDB51 (ARN split), 5-way 1-shot; CLIP-FSAR's recipe
# (configs/_base_/models/clipfsar_vit-b16.py).
_base_ = [
    '../../_base_/models/clipfsar_vit-b16.py',
    '../../_base_/datasets/hmdb51.py',
    '../../_base_/schedules/adam_steps_hmdb51.py',
    '../../_base_/default_runtime.py'
]

# text loss weight USE_CLASSIFICATION_VALUE = 1.2
model = dict(head=dict(text_loss=dict(loss_weight=1.2)))
