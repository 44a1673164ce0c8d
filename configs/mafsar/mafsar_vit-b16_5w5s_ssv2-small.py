# MA-FSAR, CLIP ViT-B/16, SSv2-Small (CMN split), 5-way 5-shot, OTAM.
_base_ = ['./mafsar_vit-b16_5w1s_ssv2-small.py']
_shots = dict(k_shot=5)
train_dataloader = dict(dataset=_shots)
val_dataloader = dict(dataset=_shots)
test_dataloader = dict(dataset=_shots)
