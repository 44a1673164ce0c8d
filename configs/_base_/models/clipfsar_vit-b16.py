# CLIP-FSAR (Wang et al., "CLIP-guided Prototype Modulating for Few-shot
# Action Recognition", IJCV 2023), rebuilt from its official code
# (github.com/alibaba-mmai-research/CLIP-FSAR: CNN_OTAM_CLIPFSAR in
# models/base/few_shot.py, runs/train_net_few_shot.py and
# configs/projects/CLIPFSAR/*.yaml):
# - the CLIP visual tower is fully fine-tuned, the text encoder is frozen
#   ("a photo of {}"); the visual tower never reads text;
# - prototype modulation: one multimodal transformer layer over
#   [support frames, class text token] (the text token is dropped after
#   it), query frames alone through the same layer; OTAM, logits = -d;
# - loss: CE(OTAM) + w * CE(text), w = USE_CLASSIFICATION_VALUE (3.0 on
#   SSv2, 1.5 on Kinetics and UCF101, 1.2 on HMDB51). Here
#   alpha = w / (1 + w) gives the same ratio (Adam ignores the overall
#   scale); text logits are the learnable scale (initialised at 1.0, as
#   CLIP-FSAR's self.scale) times cosine similarity;
# - inference (its COMBINE branch, TEXT_COFF = 0.9):
#   p ~ p_text ** 0.9 * softmax(-d / 8) ** 0.1.
# Deviation: CLIP-FSAR classifies the videos against the texts of *all*
# training classes; here the text loss uses the episode's N classes
# (mean of the support and query CE).
clip = dict(model_name='ViT-B-16', pretrained='openai')
model = dict(
    type='FewShotRecognizer',
    data_preprocessor=dict(type='FewShotDataPreprocessor'),
    backbone=dict(type='CLIPVisual', clip=clip, frozen=False),
    text_encoder=dict(
        type='CLIPTextEncoder', clip=clip, template='a photo of {}'),
    text_to_backbone=False,
    head=dict(
        type='FewShotHead',
        neck=dict(
            type='MultimodalTransformer',
            in_channels=512,
            num_heads=8,
            ffn_channels=2048),
        matcher=dict(type='OTAMMatcher'),
        alpha=3.0 / (1 + 3.0),  # w = 3.0 (SSv2)
        predict_alpha=0.9,
        fusion='geometric',
        match_scale=1.0,
        predict_match_scale=1 / 8,
        text_loss='ce',
        text_logit_scale=1.0,
        learnable_text_scale=True))
