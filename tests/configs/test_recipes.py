"""The baseline recipes pinned to the official code, value by value.

Official sources (commits as mirrored):

* CLIP-FSAR: github.com/alibaba-mmai-research/CLIP-FSAR @ 30cf0a8
  (``configs/projects/CLIPFSAR/<data>/CLIPFSAR_<data>_{1,5}shot_v1.yaml``,
  ``runs/train_net_few_shot.py``, ``models/utils/lr_policy.py``,
  ``models/utils/optimizer.py``, ``models/base/few_shot.py``);
* TRX: github.com/tobyperrett/trx (``run.py``, ``utils.py``);
* HyRSM: github.com/alibaba-mmai-research/HyRSM
  (``models/base/few_shot.py``).

Every expected value carries the file and line it comes from;
docs/recipes.md has the same values as cards.
"""
import os.path as osp
import warnings

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS

import mafsar_mm  # noqa: F401

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'configs')
SCHEDULES = osp.join(CONFIG_DIR, '_base_', 'schedules')

# The SOLVER / TRAIN values of the 1-shot yaml of each benchmark (the
# 5-shot yaml has the same ones). Line numbers are in the 1-shot yaml.
OFFICIAL = {
    'ssv2-full': dict(
        base_lr=5e-5,  # ssv2_full/CLIPFSAR_SSv2_Full_1shot_v1.yaml L58
        warmup_start_lr=1e-5,  # L67
        weight_decay=5e-5,  # L65
        steps_iter=4000,  # L60
        steps=[0, 4, 6],  # L61
        num_train_tasks=30000,  # L14
        val_fre_iter=1000,  # L16
        text_weight=3.0),  # USE_CLASSIFICATION_VALUE, L6
    'ssv2-small': dict(
        base_lr=5e-5,  # ssv2_small/CLIPFSAR_SSv2_Small_1shot_v1.yaml L59
        warmup_start_lr=2e-5,  # L68
        weight_decay=5e-5,  # L66
        steps_iter=2000,  # L61
        steps=[0, 4, 6],  # L62
        num_train_tasks=30000,  # L14
        val_fre_iter=1000,  # L16
        text_weight=3.0),  # L6
    'kinetics100': dict(
        base_lr=1e-5,  # kinetics100/CLIPFSAR_K100_1shot_v1.yaml L61
        warmup_start_lr=5e-6,  # L70
        weight_decay=5e-4,  # L68
        steps_iter=250,  # L63
        steps=[0, 6, 9],  # L64
        num_train_tasks=5000,  # L16
        val_fre_iter=100,  # L18
        text_weight=1.5),  # L7
    'ucf101': dict(
        base_lr=2e-6,  # ucf101/CLIPFSAR_UCF101_1shot_v1.yaml L61
        warmup_start_lr=1e-7,  # L70
        weight_decay=5e-5,  # L68
        steps_iter=600,  # L63
        steps=[0, 4, 6],  # L64
        num_train_tasks=3000,  # L15
        val_fre_iter=100,  # L17
        text_weight=1.5),  # L6
    'hmdb51': dict(
        base_lr=1e-5,  # hmdb51/CLIPFSAR_HMDB51_1shot_v1.yaml L61
        warmup_start_lr=1e-6,  # L70
        weight_decay=5e-5,  # L68
        steps_iter=700,  # L63
        steps=[0, 4, 6],  # L64
        num_train_tasks=5000,  # L15
        val_fre_iter=300,  # L17
        text_weight=1.2),  # L6
}
LRS = [1, 0.1, 0.01]  # SOLVER.LRS, e.g. ssv2_small yaml L63
MAX_EPOCH = 10  # SOLVER.MAX_EPOCH, e.g. ssv2_small yaml L64
WARMUP_EPOCHS = 1  # SOLVER.WARMUP_EPOCHS, e.g. ssv2_small yaml L67
NUM_FOLDS = 1  # TRAIN.NUM_FOLDS, e.g. ssv2_small yaml L22
BATCH_SIZE_PER_TASK = 4  # gradient accumulation, ssv2_small yaml L18


def official_lr(cur_iter: int, o: dict) -> float:
    """The rate CLIP-FSAR's loop sets before episode ``cur_iter``.

    runs/train_net_few_shot.py L59 (data_size = STEPS_ITER), L66
    (cur_epoch = cur_iter // STEPS_ITER), L95 (get_epoch_lr(cur_epoch +
    NUM_FOLDS * cur_iter / data_size)); models/utils/lr_policy.py L18-27
    (warm-up), L47-56 (steps_with_relative_lrs), L59-70 (get_step_index).
    """
    data_size = o['steps_iter']
    cur_epoch = cur_iter // o['steps_iter']
    epoch = cur_epoch + NUM_FOLDS * float(cur_iter) / data_size

    def steps_lr(e: float) -> float:
        steps = o['steps'] + [MAX_EPOCH]
        for ind, step in enumerate(steps):  # noqa: B007
            if e < step:
                break
        return LRS[ind - 1] * o['base_lr']

    lr = steps_lr(epoch)
    if epoch < WARMUP_EPOCHS:
        lr_start = o['warmup_start_lr']
        lr_end = steps_lr(WARMUP_EPOCHS)
        alpha = (lr_end - lr_start) / WARMUP_EPOCHS
        lr = epoch * alpha + lr_start
    return lr


def scheduled_lrs(cfg: Config, num_iters: int) -> list:
    """The rate of every episode from the MMEngine param schedulers of
    ``cfg`` (stepped once per iteration, as ParamSchedulerHook does)."""
    param = torch.nn.Parameter(torch.zeros(1))
    optim = torch.optim.Adam([param], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(s, optimizer=optim))
        for s in cfg.param_scheduler
    ]
    lrs = []
    with warnings.catch_warnings():  # no optimizer.step() here
        warnings.simplefilter('ignore', UserWarning)
        for _ in range(num_iters):
            lrs.append(optim.param_groups[0]['lr'])
            for scheduler in schedulers:
                scheduler.step()
    return lrs


def schedule(name: str) -> Config:
    return Config.fromfile(osp.join(SCHEDULES, f'adam_steps_{name}.py'))


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_lr_of_every_episode_is_the_official_formula(name):
    o = OFFICIAL[name]
    cfg = schedule(name)
    lrs = scheduled_lrs(cfg, o['num_train_tasks'])
    expected = [official_lr(i, o) for i in range(o['num_train_tasks'])]
    assert lrs == pytest.approx(expected, rel=1e-9, abs=0)


def test_lr_at_a_few_episodes():
    """Spot values: the rate drops after 2 and 3 "epochs" of STEPS_ITER
    episodes (the epoch is counted twice), not after 4 and 6."""
    lrs = scheduled_lrs(schedule('ssv2-small'), 30000)
    assert lrs[0] == pytest.approx(2e-5)  # WARMUP_START_LR, yaml L68
    assert lrs[1000] == pytest.approx(3.5e-5)  # half-way through warm-up
    assert lrs[2000] == pytest.approx(5e-5)  # BASE_LR, yaml L59
    assert lrs[3999] == pytest.approx(5e-5)
    assert lrs[4000] == pytest.approx(5e-6)  # epoch 2 + 2 = 4 = STEPS[1]
    assert lrs[5999] == pytest.approx(5e-6)
    assert lrs[6000] == pytest.approx(5e-7)  # epoch 3 + 3 = 6 = STEPS[2]
    assert lrs[29999] == pytest.approx(5e-7)
    lrs = scheduled_lrs(schedule('kinetics100'), 5000)
    assert lrs[0] == pytest.approx(5e-6)  # K100 yaml L70
    assert lrs[125] == pytest.approx(7.5e-6)
    assert lrs[749] == pytest.approx(1e-5)  # BASE_LR, K100 yaml L61
    assert lrs[750] == pytest.approx(1e-6)  # epoch 3 + 3 = 6 = STEPS[1]
    assert lrs[1249] == pytest.approx(1e-6)
    # epoch 4 + 4.99 < 9, then 5 + 5 = 10 >= 9 = STEPS[2]
    assert lrs[1250] == pytest.approx(1e-7)


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_optimiser_and_episodes(name):
    o = OFFICIAL[name]
    cfg = schedule(name)
    optim = cfg.optim_wrapper
    # OPTIM_METHOD adam (yaml, e.g. ssv2_small L69) -> torch.optim.Adam
    # with betas (0.9, 0.999) (models/utils/optimizer.py L99-105)
    assert optim.optimizer.type == 'Adam'
    assert optim.optimizer.get('betas', (0.9, 0.999)) == (0.9, 0.999)
    assert optim.optimizer.lr == o['base_lr']
    assert optim.optimizer.weight_decay == o['weight_decay']
    # optimizer.step every BATCH_SIZE_PER_TASK episodes
    # (runs/train_net_few_shot.py L150)
    assert optim.accumulative_counts == BATCH_SIZE_PER_TASK
    # no TRAIN.CLIP_GRAD_NORM in any yaml (train_net_few_shot.py L146)
    assert optim.get('clip_grad') is None
    # NUM_TRAIN_TASKS episodes (train_net_few_shot.py L63)
    assert cfg.train_cfg.max_iters == o['num_train_tasks']
    assert cfg.train_cfg.val_interval == o['val_fre_iter']
    # 10000 test episodes (NUM_TEST_TASKS, e.g. ssv2_small yaml L15)
    data = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'datasets', f'{name}.py'))
    assert data.test_dataloader.dataset.num_episodes == 10000


def test_no_weight_decay_on_norm_parameters():
    """models/utils/optimizer.py L57-72: names with 'embd'/'cls_token'
    get 0, names with 'bn'/'norm' get BN.WEIGHT_DECAY = 0.0
    (configs/pool/base.yaml L107), the rest WEIGHT_DECAY."""
    cfg = schedule('ssv2-small')
    neck = MODELS.build(
        dict(
            type='MultimodalTransformer',
            in_channels=16,
            num_heads=2,
            ffn_channels=32))
    model = torch.nn.Module()
    model.neck = neck
    model.log_text_scale = torch.nn.Parameter(torch.zeros(()))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            decay[names[id(p)]] = group['weight_decay']
    assert decay['neck.layer.norm1.weight'] == 0.0
    assert decay['neck.layer.norm1.bias'] == 0.0
    assert decay['neck.layer.attn.in_proj_weight'] == 5e-5  # yaml L66
    assert decay['log_text_scale'] == 5e-5


def load(rel: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


CLIPFSAR_DATA = {
    'ssv2-full': 'ssv2-full',
    'ssv2-small': 'ssv2-small',
    'kinetics100': 'kinetics100',
    'ucf101': 'ucf101',
    'hmdb51': 'hmdb51',
}


@pytest.mark.parametrize('shots', [1, 5])
@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_clipfsar_recipe(name, shots):
    cfg = load(f'baselines/clipfsar/clipfsar_vit-b16_5w{shots}s_{name}.py')
    o = OFFICIAL[name]
    head = cfg.model.head
    # loss = CE(OTAM) + w * CE(text) (train_net_few_shot.py L134):
    # CLIPFSARHead sums its two losses
    assert head.type == 'CLIPFSARHead' and 'alpha' not in head
    assert head.match_loss.type == 'CrossEntropyLoss'
    assert head.match_loss.get('loss_weight', 1.0) == 1.0
    assert head.text_loss.loss_weight == pytest.approx(o['text_weight'])
    # text CE over all training classes (few_shot.py L2785 against
    # text_features_train, L2702 / L2716-2720), one CE over support +
    # query videos (train_net_few_shot.py L134)
    assert head.text_classes == 'split'
    assert head.text_loss_average == 'video'
    assert head.text_loss.type == 'CrossEntropyLoss'
    # self.scale, a learnable scalar filled with 1.0 (few_shot.py L2733-4)
    assert head.text_logit_scale == 1.0 and head.learnable_text_scale
    # no released yaml sets TRAIN.COMBINE or EVAL_TEXT: prediction is the
    # else branch, OTAM alone (few_shot.py L2932-2989)
    assert head.predict_alpha == 0.0
    # OTAM_cum_dist_v2, lambda 0.5, both directions (L2657, L2979-2982)
    assert head.matcher.type == 'OTAMMatcher' and head.matcher.lbda == 0.5
    assert head.matcher.get('bidirectional', True)
    # Transformer_v1(dim=512, heads=8, dim_head_k=64, dropout_atte=0.2)
    # with mlp_dim 2048, dropout_ffn 0.05 (few_shot.py L2739, L980)
    assert head.neck.num_heads == 8 and head.neck.ffn_channels == 2048
    neck = MODELS.build(head.neck)
    assert neck.layer.attn_drop.p == 0.2  # dropout_atte=0.2, L2739
    assert neck.layer.ffn[2].p == 0.05  # dropout_ffn default, L980
    # prototypes: mean over the shots after the transformer (L2957-2962);
    # the 5-shot yaml sets MERGE_BEFORE: true (e.g. ssv2_small 5-shot
    # yaml L14): mean before it (L2949-2954)
    assert head.shot_merge == ('before_neck'
                               if shots == 5 else 'after_neck')
    # prompt 'a photo of {}' (few_shot.py L2718)
    assert cfg.model.text_encoder.template == 'a photo of {}'
    train = cfg.train_dataloader.dataset
    test = cfg.test_dataloader.dataset
    # TRAIN.SHOT 1 even for 5-shot (SHOT_TEST 5), WAY 5, QUERY_PER_CLASS
    # 5, QUERY_PER_CLASS_TEST 1 (ssv2_small 5-shot yaml L11-15)
    assert (train.n_way, train.k_shot, train.n_query) == (5, 1, 5)
    assert (test.n_way, test.k_shot, test.n_query) == (5, shots, 1)
    assert cfg.optim_wrapper.optimizer.lr == o['base_lr']


def test_frames_and_augmentation():
    """KineticsResizedCropFewshot with TRAIN_JITTER_SCALES [256, 256],
    TRAIN_CROP_SIZE 224 (transformations.py L718-737): resize to 256 x 256,
    random 224 crop; test: TEST_SCALE 256, centre crop 224 (L676-716); no
    flip / colour / erasing (ssv2_few_shot.py L540-611 with COLOR_AUG
    false, NO_RANDOM_ERASE true). 8 frames (NUM_INPUT_FRAMES, ssv2_small
    yaml L43) drawn with SAMPLING_RATE 50 (L44; K100 yaml L46: 35,
    TARGET_FPS 12 L57), base_dataset.py L505-528."""
    for name, rate in (('ssv2-small', 50), ('ssv2-full', 50),
                       ('ucf101', 50), ('hmdb51', 50), ('kinetics100', 35)):
        cfg = load(f'_base_/datasets/{name}.py')
        train = cfg.train_dataloader.dataset.pipeline
        test = cfg.test_dataloader.dataset.pipeline
        assert [t.type for t in train] == [
            'DecordInit', 'CLIPFSARSampleFrames', 'DecordDecode', 'Resize',
            'RandomCrop', 'FormatShape'
        ]
        assert train[1].clip_len == 8 and train[1].sampling_rate == rate
        assert not train[1].get('test_mode', False)
        assert train[1].get('target_fps', 12) == 12
        assert train[3].scale == (256, 256) and train[3].keep_ratio is False
        assert train[4].size == 224
        assert test[1].sampling_rate == rate and test[1].test_mode
        assert test[3].scale == (256, 256) and test[3].keep_ratio is False
        assert test[4].type == 'CenterCrop' and test[4].crop_size == 224


@pytest.mark.parametrize('setting', ['5w1s_ssv2-small', '5w5s_kinetics100'])
def test_unimodal_baseline_heads(setting):
    otam = load(f'baselines/otam/otam_vit-b32_{setting}.py').model.head
    # CNN_OTAM: OTAM_cum_dist (lambda 0.1, few_shot.py L1371), both
    # directions (L1434), mean of the distances over shots (L1437)
    assert otam.matcher.lbda == 0.1 and otam.shot_merge == 'distance'
    tsn = load(f'baselines/protonet/protonet_vit-b32_{setting}.py')
    # CNN_TSN: cosine to every shot, mean over the shots (L1566-1567)
    assert tsn.model.head.matcher.average == 'score'
    assert tsn.model.head.matcher.get('metric', 'cosine') == 'cosine'
    bimhm = load(f'baselines/bimhm/bimhm_vit-b32_{setting}.py').model.head
    # HyRSM: sum over frames (few_shot.py L737), prototypes in 5-shot
    # (CNN_HyRSM_5shot L817-818)
    assert bimhm.matcher.get('reduction', 'sum') == 'sum'
    assert bimhm.shot_merge == 'after_neck'


@pytest.mark.parametrize('shots', [1, 5])
def test_trx_recipe(shots):
    cfg = load(f'baselines/trx/trx_vit-b32_5w{shots}s_ssv2-full_'
               'trx-recipe.py')
    optim = cfg.optim_wrapper
    # run.py L97 (--opt sgd) and L48-49: torch.optim.SGD(params, lr)
    assert optim.optimizer.type == 'SGD'
    assert optim.optimizer.momentum == 0.0
    assert optim.optimizer.weight_decay == 0.0
    assert optim.optimizer.lr == 0.001  # run.py L80
    assert optim.accumulative_counts == 16  # --tasks_per_batch, L81
    assert cfg.train_cfg.max_iters == 100020  # --training_iterations, L84
    # --sch [1000000] (L106): no drop within training
    assert [s.type for s in cfg.param_scheduler] == ['ConstantLR']
    # utils.py L136-148: the task loss sums the 25 query CEs
    assert cfg.model.head.match_loss.loss_weight == 25
    matcher = MODELS.build(cfg.model.head.matcher)
    # --trans_linear_out_dim 1152 (L96), --trans_dropout 0.1 (L98),
    # --temp_set 2 3 (L101), --seq_len 8 (L93)
    assert [t.out_channels for t in matcher.transformers] == [1152, 1152]
    assert [t.pe.dropout.p for t in matcher.transformers] == [0.1, 0.1]
    assert cfg.model.head.matcher.temporal_set_size == (2, 3)
    assert cfg.model.head.matcher.seq_len == 8
    train = cfg.train_dataloader.dataset
    # --way 5, --shot (README command), --query_per_class 5 (L86-88),
    # --query_per_class_test 1 (L89)
    assert (train.n_way, train.k_shot, train.n_query) == (5, shots, 5)
    assert cfg.test_dataloader.dataset.n_query == 1
    # video_reader.py L88, L93-96: short side 256, flip, random 224 crop
    types = [t.type for t in train.pipeline]
    assert types[3:6] == ['Resize', 'Flip', 'RandomCrop']
    assert train.pipeline[3].scale == (-1, 256)
