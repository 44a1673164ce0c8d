# ssv2_full: prepare with
#   python tools/data/prepare_fewshot.py ssv2_full \
#       --video-root data/ssv2_full/videos --out data/ssv2_full
_base_ = ['./fewshot_video_224.py']
data_root = 'data/ssv2_full'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
