# TRX (unimodal), CLIP ViT-B/32 fully fine-tuned, no text, SSv2-Full
# (OTAM split, TRX's --split 7), 5-way 5-shot, trained with TRX's own
# recipe (github.com/tobyperrett/trx run.py defaults and README command)
# instead of CLIP-FSAR's: SGD lr 0.001, 16 tasks per step, 100,020 tasks,
# the summed query loss; frames as TRX's video_reader.py L80-96 makes them
# (short side 256, random horizontal flip and random 224 crop in
# training, centre crop in testing). Cards in docs/recipes.md.
_base_ = ['./trx_vit-b32_5w1s_ssv2-full_trx-recipe.py']

_shots = dict(k_shot=5)
train_dataloader = dict(dataset=_shots)
val_dataloader = dict(dataset=_shots)
test_dataloader = dict(dataset=_shots)
