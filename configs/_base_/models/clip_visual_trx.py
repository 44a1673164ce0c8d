# Unimodal baseline: fully fine-tuned CLIP visual tower per frame, no
# text, TRX (Perrett et al., CVPR 2021) with frame-pair and -triple
# cross-transformers. seq_len = frames per video, in_channels = CLIP's
# embedding size (512 for ViT-B/32 and ViT-B/16).
_base_ = ['./clip_visual_otam.py']
model = dict(
    head=dict(
        matcher=dict(
            _delete_=True,
            type='TRXMatcher',
            in_channels=512,
            seq_len=8,
            temporal_set_size=(2, 3))))
