# CLIP-FSAR, CLIP ViT-B/16 fully fine-tuned + frozen text,
# Kinetics-100 (CMN split), 5-way 5-shot; CLIP-FSAR's recipe
# (configs/_base_/models/clipfsar_vit-b16.py).
_base_ = [
    '../../_base_/models/clipfsar_vit-b16.py',
    '../../_base_/datasets/kinetics100.py',
    '../../_base_/schedules/adam_steps_kinetics100.py',
    '../../_base_/default_runtime.py'
]

# text loss weight USE_CLASSIFICATION_VALUE = 1.5
model = dict(
    head=dict(
        text_loss=dict(loss_weight=1.5), shot_merge='before_neck'))

# CLIP-FSAR trains its 5-shot models on 1-shot episodes (TRAIN.SHOT: 1,
# SHOT_TEST: 5) and averages the 5 shots of a class before the multimodal
# transformer (TRAIN.MERGE_BEFORE: true; few_shot.py L2949-2954).
_shots = dict(k_shot=5)
val_dataloader = dict(dataset=_shots)
test_dataloader = dict(dataset=_shots)
