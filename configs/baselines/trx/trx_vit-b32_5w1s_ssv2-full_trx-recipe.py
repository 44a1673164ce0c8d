# TRX (unimodal), CLIP ViT-B/32 fully fine-tuned, no text, SSv2-Full
# (OTAM split, TRX's --split 7), 5-way 1-shot, trained with TRX's own
# recipe (github.com/tobyperrett/trx run.py defaults and README command)
# instead of CLIP-FSAR's: SGD lr 0.001, 16 tasks per step, 100,020 tasks,
# the summed query loss; frames as TRX's video_reader.py L80-96 makes them
# (short side 256, random horizontal flip and random 224 crop in
# training, centre crop in testing). Cards in docs/recipes.md.
_base_ = [
    '../../_base_/models/clip_visual_trx.py',
    '../../_base_/datasets/ssv2-full.py',
    '../../_base_/schedules/sgd_trx.py',
    '../../_base_/default_runtime.py'
]

clip = dict(model_name='ViT-B-32', pretrained='openai')
# utils.py L136-148: sum over the N * Q = 25 training queries
model = dict(
    backbone=dict(clip=clip),
    head=dict(match_loss=dict(loss_weight=5 * 5)))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=8, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='RandomCrop', size=224),
    dict(type='FormatShape', input_format='NCTHW'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=8, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
]
_shots = dict(k_shot=1)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline, **_shots))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline, **_shots))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline, **_shots))
