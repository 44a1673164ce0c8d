# hmdb51: prepare with
#   python tools/data/prepare_fewshot.py hmdb51 \
#       --video-root data/hmdb51/videos --out data/hmdb51
_base_ = ['./fewshot_video_224.py']
data_root = 'data/hmdb51'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
