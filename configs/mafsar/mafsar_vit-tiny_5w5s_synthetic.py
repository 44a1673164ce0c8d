# MA-FSAR on the pretrained tiny CLIP (frozen), spatial synthetic data, 5-way
# 5-shot; otherwise the quickstart (mafsar_vit-tiny_5w1s_synthetic.py).
_base_ = ['./mafsar_vit-tiny_5w1s_synthetic.py']

_shots = dict(k_shot=5)
train_dataloader = dict(dataset=_shots)
val_dataloader = dict(dataset=_shots)
test_dataloader = dict(dataset=_shots)
