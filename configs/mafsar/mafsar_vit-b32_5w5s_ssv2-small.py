# MA-FSAR, CLIP ViT-B/32, SSv2-Small (CMN split), 5-way 5-shot, OTAM.
_base_ = ['./mafsar_vit-b16_5w5s_ssv2-small.py']
clip = dict(model_name='ViT-B-32', pretrained='openai')
model = dict(backbone=dict(clip=clip), text_encoder=dict(clip=clip))
