# TRX's training recipe as its run.py runs it with the defaults
# (github.com/tobyperrett/trx @ HEAD, run.py): SGD without momentum or
# weight decay (--opt sgd L97, torch.optim.SGD(params, lr) L48-49), lr
# 0.001 (L80), no lr drop (--sch [1000000] L106, MultiStepLR L52),
# gradients summed over 16 tasks per step (--tasks_per_batch 16 L81; loss
# / tasks_per_batch L196, step L164-166), 100,020 training tasks
# (--training_iterations L84). The loss of a task is the *sum* of the
# query cross-entropies (utils.py L136-148 with NUM_SAMPLES = 1): leaves
# set model.head.loss_weight = N * Q to match it under SGD. TRX trains on
# one GPU (the ResNet split over 4); `bash tools/dist_train.sh` with more
# processes sees more tasks per step.
max_iters = 100020
train_cfg = dict(
    type='EpisodicTrainLoop', max_iters=max_iters, val_interval=5000)
val_cfg = dict(type='FewShotValLoop', feature_cache=True)
test_cfg = dict(type='FewShotTestLoop', feature_cache=True)

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.001, momentum=0.0, weight_decay=0.0),
    accumulative_counts=16)
param_scheduler = [
    dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0,
         end=max_iters)
]
