# MA-FSAR (docs/method.md): frozen CLIP ViT-B/16 with FgMA adapters, frozen
# text encoder, TPCM prototypes, OTAM matching, text branch fused with alpha.
clip = dict(model_name='ViT-B-16', pretrained='openai')
model = dict(
    type='FewShotRecognizer',
    data_preprocessor=dict(type='FewShotDataPreprocessor'),
    backbone=dict(
        type='CLIPViTFgMA',
        clip=clip,
        num_frames=8,
        adapter_ratio=0.25,
        joint_scale=0.5,
        share_lma_lsta=True,
        text_fc='per_layer',
        # GTA attends over the T class tokens, which is blind to frame order
        # without a position signal; a zero-initialised learnable temporal
        # embedding as in AIM (vit_clip.py L123, L207-210) makes it
        # order-aware (docs/method.md, "Temporal position")
        temporal_pos_embed=True),
    text_encoder=dict(
        type='CLIPTextEncoder', clip=clip, template='a photo of {}'),
    text_to_backbone=True,
    head=dict(
        type='FewShotHead',
        neck=dict(type='TPCM', in_channels=512, num_heads=8,
                  ffn_channels=2048),
        matcher=dict(type='OTAMMatcher'),
        match_loss=dict(type='CrossEntropyLoss'),  # L_Q2S
        text_loss=dict(type='OneHotKLLoss', target_scale=10.0),  # L_S2T/Q2T
        fusion=dict(type='ArithmeticFusion'),  # p = a p_Q2T + (1-a) p_Q2S
        alpha=0.5))
