# The built-in synthetic dataset (tools/data/make_synthetic.py), spatial
# flavour: shape, colour and motion name a class (the *_synthetic-temporal
# configs point data_root at the temporal flavour, where only the motion
# does); train/val/test classes are disjoint.
dataset_type = 'FewShotVideoDataset'
data_root = 'data/synthetic'
clip_len = 8
input_size = 64

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=clip_len, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 72)),
    dict(type='RandomResizedCrop', area_range=(0.6, 1.0)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=clip_len, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 72)),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
]

train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='EpisodeSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train.txt',
        class_name_file='classes.txt',
        pipeline=train_pipeline,
        n_way=5,
        k_shot=1,
        n_query=2,
        num_episodes=100000,
        min_frames=clip_len))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='EpisodeSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val.txt',
        class_name_file='classes.txt',
        pipeline=test_pipeline,
        n_way=5,
        k_shot=1,
        n_query=1,
        num_episodes=100,
        seed=1,
        test_mode=True,
        min_frames=clip_len))
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='EpisodeSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='test.txt',
        class_name_file='classes.txt',
        pipeline=test_pipeline,
        n_way=5,
        k_shot=1,
        n_query=1,
        num_episodes=500,
        seed=2,
        test_mode=True,
        min_frames=clip_len))
val_evaluator = dict(type='FewShotAccuracy')
test_evaluator = val_evaluator
