# Unimodal baseline: fully fine-tuned CLIP visual tower per frame, no
# text, Bi-MHM matching (HyRSM, Wang et al., CVPR 2022) as HyRSM's code
# runs it (github.com/alibaba-mmai-research/HyRSM, models/base/few_shot.py
# L733-737 and L850-855: 1 - cos of L2-normalised frames,
# min over the other video's frames, summed over frames, both
# directions). 5-shot: the support features of a class are averaged frame
# by frame before Bi-MHM (CNN_HyRSM_5shot L817-818; MoLo's
# CNN_BiMHM_MoLo in github.com/alibaba-mmai-research/CLIP-FSAR
# models/base/few_shot.py L2531-2532), shot_merge='after_neck'.
_base_ = ['./clip_visual_otam.py']
model = dict(
    head=dict(
        matcher=dict(_delete_=True, type='BiMHMMatcher'),
        shot_merge='after_neck'))
