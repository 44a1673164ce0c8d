# Unimodal baseline: the CLIP visual tower per frame, fully fine-tuned
# (model.backbone.frozen=True freezes it), no text, OTAM matching (Cao et
# al., CVPR 2020) as the official CNN_OTAM head runs it
# (github.com/alibaba-mmai-research/CLIP-FSAR @ 30cf0a8,
# models/base/few_shot.py L1405-1441, the same class in HyRSM's
# models/base/few_shot.py L368-404): OTAM_cum_dist with lambda = 0.1
# (L1371), both directions (L1434), distances averaged over the shots of a
# class (L1437, shot_merge='distance'), logits = -distance, no
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
        matcher=dict(type='OTAMMatcher', lbda=0.1),
        shot_merge='distance',
        match_loss=dict(type='CrossEntropyLoss'),
        text_loss=None,  # no text branch
        alpha=0.0))
