# ucf101: prepare with
#   python tools/data/prepare_fewshot.py ucf101 \
#       --video-root data/ucf101/videos --out data/ucf101
_base_ = ['./fewshot_video_224.py']
data_root = 'data/ucf101'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
