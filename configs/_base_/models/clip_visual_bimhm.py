# Unimodal baseline: fully fine-tuned CLIP visual tower per frame, no
# text, Bi-MHM matching (HyRSM, Wang et al., CVPR 2022).
_base_ = ['./clip_visual_otam.py']
model = dict(head=dict(matcher=dict(_delete_=True, type='BiMHMMatcher')))
