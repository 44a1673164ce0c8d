"""The rows of ``compare_methods.py``: every method and MA-FSAR ablation
(config template and extra options), which rows read text, and which choose
their learning rate on val."""

_MAFSAR = 'configs/mafsar/mafsar_vit-tiny_5w{k}s_{data}.py'
_NO_FGMA = ('model.backbone.with_gta=False', 'model.backbone.with_lma=False',
            'model.backbone.with_joint=False',
            'model.backbone.temporal_pos_embed=False')
_NO_TPCM = ('model.head.neck=None', )

#: key -> (label, config template, extra --cfg-options, test text alone)
METHODS = {
    'protonet': ('ProtoNet (full FT)',
                 'configs/baselines/protonet/protonet_vit-tiny_5w{k}s_'
                 '{data}.py', (), False),
    'otam': ('OTAM (full FT)',
             'configs/baselines/otam/otam_vit-tiny_5w{k}s_{data}.py', (),
             False),
    'bimhm': ('Bi-MHM (full FT)',
              'configs/baselines/bimhm/bimhm_vit-tiny_5w{k}s_{data}.py', (),
              False),
    'trx': ('TRX (full FT)',
            'configs/baselines/trx/trx_vit-tiny_5w{k}s_{data}.py', (),
            False),
    'clipfsar': ('CLIP-FSAR (full FT + text, OTAM)',
                 'configs/baselines/clipfsar/clipfsar_vit-tiny_5w{k}s_'
                 '{data}.py', (), True),
    'mafsar_otam': ('MA-FSAR + OTAM', _MAFSAR, (), True),
    'mafsar_bimhm': ('MA-FSAR + Bi-MHM',
                     'configs/mafsar/mafsar_vit-tiny_5w{k}s_{data}_bimhm.py',
                     (), False),
    'mafsar_trx': ('MA-FSAR + TRX',
                   'configs/mafsar/mafsar_vit-tiny_5w{k}s_{data}_trx.py', (),
                   False),
    'mafsar_proto': ('MA-FSAR + ProtoNet',
                     'configs/mafsar/mafsar_vit-tiny_5w{k}s_{data}_proto.py',
                     (), False),
    # paper Table 3 (frozen CLIP + OTAM; + TPCM; + FgMA; both = MA-FSAR)
    'abl_none': ('ablation: frozen CLIP + OTAM (no FgMA, no TPCM)', _MAFSAR,
                 _NO_FGMA + _NO_TPCM, True),
    'abl_tpcm': ('ablation: + TPCM only', _MAFSAR, _NO_FGMA, False),
    'abl_fgma': ('ablation: + FgMA only', _MAFSAR, _NO_TPCM, False),
    # each FgMA part turned off in turn
    'abl_no_gta': ('ablation: MA-FSAR without GTA', _MAFSAR,
                   ('model.backbone.with_gta=False',
                    'model.backbone.temporal_pos_embed=False'), False),
    'abl_no_lma': ('ablation: MA-FSAR without LMA/LSTA', _MAFSAR,
                   ('model.backbone.with_lma=False', ), False),
    'abl_no_joint': ('ablation: MA-FSAR without the joint adapter', _MAFSAR,
                     ('model.backbone.with_joint=False', ), False),
    'abl_no_pos': ('ablation: MA-FSAR without temporal position (GTA '
                   'order-blind)', _MAFSAR,
                   ('model.backbone.temporal_pos_embed=False', ), False),
}

#: methods whose head has a text branch: their text weight in the
#: prediction is chosen on val (``choose_alpha``)
TEXT_BRANCH = frozenset(
    k for k, v in METHODS.items() if '/mafsar/' in v[1] or
    '/clipfsar/' in v[1])
#: learning rates compared on val (``--lrs``)
LR_GRID = (1e-3, 1e-4)
#: rows whose learning rate is chosen on val; the others (MA-FSAR with
#: another matcher, the ablations) train at the rate chosen for
#: ``LR_SOURCE``, as an ablation keeps the settings of the full model
LR_ON_VAL = ('protonet', 'otam', 'bimhm', 'trx', 'clipfsar', 'mafsar_otam')
LR_SOURCE = 'mafsar_otam'
