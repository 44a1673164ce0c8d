# MA-FSAR, CLIP ViT-B/16 (frozen, FgMA adapters), SSv2-Small (CMN split),
# 5-way 1-shot, OTAM.
_base_ = [
    '../_base_/models/mafsar_vit-b16.py', '../_base_/datasets/ssv2-small.py',
    '../_base_/schedules/adamw_20k.py', '../_base_/default_runtime.py'
]
