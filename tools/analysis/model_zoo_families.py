"""The model zoo's families and the paper's numbers, for
``tools/analysis/model_zoo.py``: each config folder's collection name,
paper, comparison labels and summary, and what the MA-FSAR and CLIP-FSAR
papers report (SPEC.md, section 4)."""

MAFSAR_PAPER = dict(
    URL='https://arxiv.org/abs/2308.01532',
    Title='MA-FSAR: Multimodal Adaptation of CLIP for Few-Shot Action '
    'Recognition')

#: family folder -> collection name, paper, comparison labels, summary
FAMILIES = {
    'configs/mafsar':
    dict(
        name='MA-FSAR',
        paper=MAFSAR_PAPER,
        labels=('MA-FSAR', 'ablation'),
        extra=('configs/mafsar_ssv2_5w1s.py', ),
        summary='Frozen CLIP with fine-grained multimodal adapters (FgMA: '
        'GTA, LMA/LSTA, joint adapter) in every visual block, the '
        'text-guided prototype module TPCM and a temporal matcher (OTAM by '
        'default; `*_bimhm`, `*_trx`, `*_proto` swap it). '
        '`docs/method.md` gives the reconstruction and every inferred '
        'choice.'),
    'configs/baselines/otam':
    dict(
        name='OTAM',
        paper=dict(
            URL='https://arxiv.org/abs/1906.11415',
            Title='Few-Shot Video Classification via Temporal Alignment'),
        labels=('OTAM (full FT)', ),
        summary='Ordered temporal alignment of frame features (soft-min '
        'dynamic programming), on a fully fine-tuned CLIP visual tower.'),
    'configs/baselines/bimhm':
    dict(
        name='Bi-MHM',
        paper=dict(
            URL='https://arxiv.org/abs/2012.09335',
            Title='Learning Implicit Temporal Alignment for Few-shot Video '
            'Classification'),
        labels=('Bi-MHM (full FT)', ),
        summary='Bidirectional mean Hausdorff metric between the frames '
        'of a query and a class, on a fully fine-tuned CLIP visual '
        'tower.'),
    'configs/baselines/trx':
    dict(
        name='TRX',
        paper=dict(
            URL='https://arxiv.org/abs/2101.06184',
            Title='Temporal-Relational CrossTransformers for Few-Shot '
            'Action Recognition'),
        labels=('TRX (full FT)', ),
        summary='Temporal-relational cross-transformer over frame pairs '
        'and triples, on a fully fine-tuned (or, `*-frozen_*`, frozen) '
        'CLIP visual tower; `*_trx-recipe.py` uses TRX\'s own training '
        'recipe.'),
    'configs/baselines/protonet':
    dict(
        name='ProtoNet',
        paper=dict(
            URL='https://arxiv.org/abs/1703.05175',
            Title='Prototypical Networks for Few-shot Learning'),
        labels=('ProtoNet (full FT)', ),
        summary='Class prototypes = mean of the time-averaged support '
        'features, on a fully fine-tuned CLIP visual tower.'),
    'configs/baselines/clipfsar':
    dict(
        name='CLIP-FSAR',
        paper=dict(
            URL='https://arxiv.org/abs/2301.00805',
            Title='CLIP-guided Prototype Modulating for Few-shot Action '
            'Recognition'),
        labels=('CLIP-FSAR', ),
        summary='Fully fine-tuned CLIP visual tower, frozen text encoder, '
        'a video-text multimodal transformer for the prototypes and OTAM; '
        'loss weights, text temperature and inference fusion from the '
        'official code (`docs/recipes.md`).'),
}

#: what the paper of MA-FSAR reports (SPEC, 5-way %, (1-shot, 5-shot)),
#: shown beside the empty slots
PAPER_RESULTS = {
    ('MA-FSAR', 'ViT-B-16'):
    dict(hmdb51=(83.4, 87.9), ucf101=(96.5, 98.6), kinetics100=(95.7, 96.0),
         **{'ssv2-small': (59.1, 64.5), 'ssv2-full': (63.3, 72.3)}),
    ('MA-FSAR', 'ViT-B-32'):
    dict(kinetics100=(93.5, None),
         **{'ssv2-small': (56.5, 62.3), 'ssv2-full': (61.9, 64.5)}),
    ('CLIP-FSAR', 'ViT-B-16'):
    dict(ucf101=(97.0, 99.1),
         **{'ssv2-small': (54.6, 61.8), 'ssv2-full': (62.1, 72.1)}),
}
BENCHMARKS = {
    'ssv2-full': 'SSv2-Full',
    'ssv2-small': 'SSv2-Small',
    'kinetics100': 'Kinetics-100',
    'ucf101': 'UCF101',
    'hmdb51': 'HMDB51',
    'synthetic': 'Synthetic-spatial',
    'synthetic-temporal': 'Synthetic-temporal',
}
FLAVOUR_DATA = {'spatial': 'synthetic', 'temporal': 'synthetic-temporal'}
