# MA-FSAR, CLIP ViT-B/32, SSv2-Full (OTAM split), 5-way 1-shot, OTAM.
_base_ = ['./mafsar_vit-b16_5w1s_ssv2-full.py']
clip = dict(model_name='ViT-B-32', pretrained='openai')
model = dict(backbone=dict(clip=clip), text_encoder=dict(clip=clip))
