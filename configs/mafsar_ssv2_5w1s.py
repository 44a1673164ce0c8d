# The headline config: MA-FSAR, CLIP ViT-B/16, SSv2-Full, 5-way 1-shot, OTAM.
# Same as configs/mafsar/mafsar_vit-b16_5w1s_ssv2-full.py, except that the
# backbone recomputes each adapted block in the backward pass
# (with_cp=True) so that training fits in 16 GB: without it, or with only
# the frozen MLPs recomputed (with_cp='mlp'), an episode of 30 videos
# passes 16 GB (docs/benchmarks.md, section 7). With more memory,
# --cfg-options model.backbone.with_cp=False trains faster.
_base_ = ['./mafsar/mafsar_vit-b16_5w1s_ssv2-full.py']
model = dict(backbone=dict(with_cp=True))
