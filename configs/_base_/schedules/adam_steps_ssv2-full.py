# CLIP-FSAR's training recipe on ssv2-full
# (github.com/alibaba-mmai-research/CLIP-FSAR:
# configs/projects/CLIPFSAR/ssv2_full/CLIPFSAR_SSv2_Full_1shot_v1.yaml
# and runs/train_net_few_shot.py): Adam with L2 weight decay; one "epoch" is
# 4000 episodes (SOLVER.STEPS_ITER); linear warm-up over the first
# epoch from 1e-5; lr x0.1 at epochs 4 and 6; 30000 training episodes
# (NUM_TRAIN_TASKS) per process; gradients accumulated over 4 episodes
# (BATCH_SIZE_PER_TASK); no gradient clipping. CLIP-FSAR trained on 4 GPUs
# (one episode each per iteration): `bash tools/dist_train.sh CFG 4` sees
# the same number of episodes.
max_iters = 30000
train_cfg = dict(
    type='EpisodicTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict(type='FewShotValLoop', feature_cache=True)
test_cfg = dict(type='FewShotTestLoop', feature_cache=True)

optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=5e-5, weight_decay=5e-5),
    accumulative_counts=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-5 / 5e-5, by_epoch=False,
         begin=0, end=4000),
    dict(type='MultiStepLR', milestones=[16000, 24000], gamma=0.1,
         by_epoch=False, begin=0, end=max_iters)
]
