# CLIP-FSAR, CLIP ViT-B/16 fully fine-tuned + frozen text,
# SSv2-Small (CMN split), 5-way 1-shot; CLIP-FSAR's recipe
# (configs/_base_/models/clipfsar_vit-b16.py).
_base_ = [
    '../../_base_/models/clipfsar_vit-b16.py',
    '../../_base_/datasets/ssv2-small.py',
    '../../_base_/schedules/adam_steps_ssv2-small.py',
    '../../_base_/default_runtime.py'
]
