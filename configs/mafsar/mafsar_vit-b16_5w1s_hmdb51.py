# MA-FSAR, CLIP ViT-B/16 (frozen, FgMA adapters), HMDB51 (ARN split),
# 5-way 1-shot, OTAM.
_base_ = [
    '../_base_/models/mafsar_vit-b16.py', '../_base_/datasets/hmdb51.py',
    '../_base_/schedules/adamw_1k.py', '../_base_/default_runtime.py'
]
