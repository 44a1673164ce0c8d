# The headline config: MA-FSAR, CLIP ViT-B/16, SSv2-Full, 5-way 1-shot, OTAM.
# Same as configs/mafsar/mafsar_vit-b16_5w1s_ssv2-full.py.
_base_ = ['./mafsar/mafsar_vit-b16_5w1s_ssv2-full.py']
