# kinetics100: prepare with
#   python tools/data/prepare_fewshot.py kinetics100 \
#       --video-root data/kinetics100/videos --out data/kinetics100
_base_ = ['./fewshot_video_224.py']
data_root = 'data/kinetics100'
# CLIP-FSAR samples Kinetics-100 with SAMPLING_RATE 35 and TARGET_FPS 12
# (kinetics100/CLIPFSAR_K100_1shot_v1.yaml L46, L57): 8 evenly spaced
# frames of a window (datasets/base/base_dataset.py L510-528), centred in
# testing.
_sample = dict(type='CLIPFSARSampleFrames', clip_len=8, sampling_rate=35,
               target_fps=12)
train_pipeline = [
    dict(type='DecordInit'),
    _sample,
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomCrop', size=224),
    dict(type='FormatShape', input_format='NCTHW'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(_sample, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
