# Shared episode loaders for the real benchmarks (docs/method.md), CLIP
# normalisation in the data preprocessor. 8 frames drawn as CLIP-FSAR
# draws them with SAMPLING_RATE 50 (SSv2, UCF101, HMDB51; kinetics100.py
# sets 35): one random frame in each of 8 segments of L // 8 frames in
# training, the segment centre in testing (CLIPFSARSampleFrames,
# datasets/base/base_dataset.py L505-509). Frames as CLIP-FSAR's loader
# makes them
# (github.com/alibaba-mmai-research/CLIP-FSAR @ 30cf0a8,
# datasets/utils/transformations.py L718-737, L676-716 with the yaml's
# TRAIN_JITTER_SCALES [256, 256], TRAIN_CROP_SIZE / TEST_CROP_SIZE 224,
# TEST_SCALE 256, TEST_CENTER_CROP true): every frame resized to 256 x 256
# (aspect ratio not kept), a random 224 crop in training, the centre crop
# in testing; no flip, colour jitter or random erasing (COLOR_AUG false,
# NO_RANDOM_ERASE true, no RANDOM_FLIP; datasets/base/ssv2_few_shot.py
# L540-611). docs/recipes.md lists the remaining difference (random frames
# in CLIP-FSAR's evaluation). Leaves set data_root and the shots. Prepare
# the files with tools/data/prepare_fewshot.py.
dataset_type = 'FewShotVideoDataset'
data_root = 'data/ssv2_full'
clip_len = 8
sampling_rate = 50  # DATA.SAMPLING_RATE, e.g. ssv2_small yaml L44

train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='CLIPFSARSampleFrames',
        clip_len=clip_len,
        sampling_rate=sampling_rate),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomCrop', size=224),
    dict(type='FormatShape', input_format='NCTHW'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='CLIPFSARSampleFrames',
        clip_len=clip_len,
        sampling_rate=sampling_rate,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
]

_split = dict(
    type=dataset_type,
    data_root=data_root,
    class_name_file='classes.txt',
    data_prefix=dict(video='videos'),
    n_way=5,
    k_shot=1,
    min_frames=1)

train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='EpisodeSampler', shuffle=True),
    dataset=dict(
        **_split,
        ann_file='train.txt',
        pipeline=train_pipeline,
        n_query=5,
        num_episodes=100000))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='EpisodeSampler', shuffle=False),
    dataset=dict(
        **_split,
        ann_file='val.txt',
        pipeline=test_pipeline,
        n_query=1,
        num_episodes=1000,
        seed=1,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='EpisodeSampler', shuffle=False),
    dataset=dict(
        **_split,
        ann_file='test.txt',
        pipeline=test_pipeline,
        n_query=1,
        num_episodes=10000,
        seed=2,
        test_mode=True))
val_evaluator = dict(type='FewShotAccuracy')
test_evaluator = val_evaluator
