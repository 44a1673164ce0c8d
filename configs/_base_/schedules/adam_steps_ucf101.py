# CLIP-FSAR's training recipe on ucf101, as its code runs it
# (github.com/alibaba-mmai-research/CLIP-FSAR @ 30cf0a8; the 5-shot yaml
# ucf101/CLIPFSAR_UCF101_5shot_v1.yaml has the same values).
# configs/projects/CLIPFSAR/ucf101/CLIPFSAR_UCF101_1shot_v1.yaml:
#   OPTIM_METHOD adam (L71), BASE_LR 2e-6 (L61),
#   WEIGHT_DECAY 5e-5 (L68), STEPS_ITER 600 (L63),
#   STEPS [0, 4, 6] (L64), LRS [1, 0.1, 0.01] (L65),
#   WARMUP_EPOCHS 1 (L69), WARMUP_START_LR 1e-7 (L70),
#   NUM_TRAIN_TASKS 3000 (L15), BATCH_SIZE_PER_TASK 4 (L20),
#   VAL_FRE_ITER 100 (L17).
# runs/train_net_few_shot.py L66 and L95 set the rate of episode i to
# get_epoch_lr(i // STEPS_ITER + i / STEPS_ITER) (NUM_FOLDS = 1): the epoch
# is counted twice, so epoch e >= 1 is reached at episode ceil(e / 2) *
# STEPS_ITER (models/utils/lr_policy.py L20-27, L47-70): warm-up linear
# from WARMUP_START_LR over the first 600 episodes (there the floor is 0),
# x0.1 at episodes 1200 and 1800 (epochs 4 and 6).
# Adam with L2 weight decay; LayerNorm weights named *norm* get none
# (models/utils/optimizer.py L57-72, BN.WEIGHT_DECAY 0.0 in
# configs/pool/base.yaml L107). Gradients are summed over 4 episodes per
# step (train_net_few_shot.py L150). CLIP-FSAR trained on 4 GPUs
# (NUM_GPUS 4), one episode each per iteration: `bash tools/dist_train.sh
# CFG 4` sees the same number of episodes. No gradient clipping.
# docs/recipes.md has the card; tests/configs/test_recipes.py pins it.
max_iters = 3000
train_cfg = dict(
    type='EpisodicTrainLoop', max_iters=max_iters, val_interval=100)
val_cfg = dict(type='FewShotValLoop', feature_cache=True)
test_cfg = dict(type='FewShotTestLoop', feature_cache=True)

optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=2e-6, weight_decay=5e-5),
    paramwise_cfg=dict(custom_keys={
        'norm': dict(decay_mult=0.0),
        'bn': dict(decay_mult=0.0),
        'embd': dict(decay_mult=0.0),
        'cls_token': dict(decay_mult=0.0)
    }),
    accumulative_counts=4)
# LinearLR reaches its end factor at step end - begin - 1, hence end =
# STEPS_ITER + 1: the rate of episode i < STEPS_ITER is exactly
# start + (base - start) * i / STEPS_ITER, as in lr_policy.py L25-26.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-7 / 2e-6, by_epoch=False,
         begin=0, end=600 + 1),
    dict(type='MultiStepLR', milestones=[1200, 1800], gamma=0.1,
         by_epoch=False, begin=0, end=max_iters)
]
