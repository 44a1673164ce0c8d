# MA-FSAR, CLIP ViT-B/16 (frozen, FgMA adapters), Kinetics-100 (CMN split),
# 5-way 1-shot, OTAM.
_base_ = [
    '../_base_/models/mafsar_vit-b16.py', '../_base_/datasets/kinetics100.py',
    '../_base_/schedules/adamw_1k.py', '../_base_/default_runtime.py'
]
