# TRX (unimodal), CLIP ViT-B/32 *frozen* (only the TRX cross-transformers
# are trained), SSv2-Small (CMN split), 5-way 5-shot. Parameter-free
# matchers (OTAM, Bi-MHM, ProtoNet) have nothing to train on a frozen
# encoder.
_base_ = ['./trx_vit-b32_5w5s_ssv2-small.py']
model = dict(backbone=dict(frozen=True))
