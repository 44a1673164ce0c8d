# The tiny CLIP of the synthetic configs: the open_clip.CLIP architecture
# (ViT visual tower, 4 blocks, width 128, 64x64 input, 8x8 tokens from a
# small residual convolutional stem; 2-block text tower) with weights
# pretrained here on captioned synthetic still frames by
# tools/pretrain_tiny_clip.py (tools/quickstart.sh makes the file once).
# Tests build it with pretrained=None (random weights).
clip_tiny = dict(
    model_cfg=dict(
        embed_dim=128,
        # two stages of a stride-2 3x3 convolution and two residual 3x3
        # convolutions (BatchNorm), then a stride-2 projection, in place of
        # the 8x8 patchify embedding (mafsar_mm/models/clip/conv_stem.py):
        # same 8x8 tokens
        conv_stem=dict(channels=[32, 64], blocks=2, norm='bn'),
        vision_cfg=dict(
            image_size=64, layers=4, width=128, patch_size=8,
            head_width=32),
        text_cfg=dict(
            context_length=32, vocab_size=49408, width=128, heads=4,
            layers=2)),
    pretrained='data/pretrained/clip_tiny.pt')
