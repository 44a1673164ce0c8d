# Unimodal baseline: the CLIP visual tower per frame, fully fine-tuned
# (model.backbone.frozen=True freezes it), no text, OTAM matching (Cao et
# al., CVPR 2020; as in CLIP-FSAR, SPEC.md 2.4), logits = -distance, no
# temperature. The MA-FSAR paper's unimodal rows use CLIP ViT-B/32.
clip = dict(model_name='ViT-B-32', pretrained='openai')
model = dict(
    type='FewShotRecognizer',
    data_preprocessor=dict(type='FewShotDataPreprocessor'),
    backbone=dict(type='CLIPVisual', clip=clip, frozen=False),
    text_encoder=None,
    text_to_backbone=False,
    head=dict(
        type='FewShotHead',
        neck=None,
        matcher=dict(type='OTAMMatcher'),
        alpha=0.0))
