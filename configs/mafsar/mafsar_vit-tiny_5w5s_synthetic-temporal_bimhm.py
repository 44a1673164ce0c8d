# mafsar_vit-tiny_5w5s_synthetic_bimhm.py on the temporal synthetic flavour (SSv2-like: only the motion
# names a class; make it with
# python tools/data/make_synthetic.py --flavour temporal).
_base_ = ['./mafsar_vit-tiny_5w5s_synthetic_bimhm.py']
_data = dict(dataset=dict(data_root='data/synthetic_temporal'))
train_dataloader = _data
val_dataloader = _data
test_dataloader = _data
