# MA-FSAR, CLIP ViT-B/32, Kinetics-100 (CMN split), 5-way 5-shot, OTAM.
_base_ = ['./mafsar_vit-b16_5w5s_kinetics100.py']
clip = dict(model_name='ViT-B-32', pretrained='openai')
model = dict(backbone=dict(clip=clip), text_encoder=dict(clip=clip))
