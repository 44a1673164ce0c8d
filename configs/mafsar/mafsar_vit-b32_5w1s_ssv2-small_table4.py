# MA-FSAR, CLIP ViT-B/32, SSv2-Small, 5-way 1-shot, with the adapter sizes
# that reproduce every row of the paper's Table 4 (temporal adaptation
# 7.10 M, multimodal adaptation 4.79 M, joint adaptation 3.50 M, TPCM
# 3.15 M, total 18.54 M; check with
# `python tools/analysis/count_params.py THIS_CONFIG`). A reading, not the
# authors' code (docs/method.md, "Parameter counts"):
# - temporal adaptation = GTA + a separate LSTA adapter
#   (share_lma_lsta=False): 2 x 3.55 M;
# - multimodal adaptation = LMA adapter (3.55 M) + Text FCs of rank 80
#   (1.24 M; a full Linear(512, 768) per block would be 4.73 M);
# - joint adaptation = joint adapters with a 189-wide bottleneck
#   (joint_ratio = 189 / 768; 192 gives 3.55 M).
_base_ = ['./mafsar_vit-b32_5w1s_ssv2-small.py']
model = dict(
    backbone=dict(
        share_lma_lsta=False, text_fc_rank=80, joint_ratio=189 / 768))
