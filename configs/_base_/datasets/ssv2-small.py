# ssv2_small: prepare with
#   python tools/data/prepare_fewshot.py ssv2_small \
#       --video-root data/ssv2_small/videos --out data/ssv2_small
_base_ = ['./fewshot_video_224.py']
data_root = 'data/ssv2_small'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
