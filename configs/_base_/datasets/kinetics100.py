# kinetics100: prepare with
#   python tools/data/prepare_fewshot.py kinetics100 \
#       --video-root data/kinetics100/videos --out data/kinetics100
_base_ = ['./fewshot_video_224.py']
data_root = 'data/kinetics100'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
