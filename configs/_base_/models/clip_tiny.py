# A tiny randomly initialised CLIP with the same architecture as the real
# ones (open_clip.CLIP): used by the quickstart and the tests, no download.
clip_tiny = dict(
    model_cfg=dict(
        embed_dim=128,
        vision_cfg=dict(
            image_size=64, layers=4, width=128, patch_size=8,
            head_width=32),
        text_cfg=dict(
            context_length=77, vocab_size=49408, width=128, heads=4,
            layers=2)))
