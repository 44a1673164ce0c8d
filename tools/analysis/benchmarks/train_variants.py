"""The training-step variants of section 2 (the levers measured)."""

#: glibc malloc with a fixed mmap threshold: every allocation of 128 KiB
#: or more is mapped on its own and unmapped when freed, so RSS follows
#: the live tensors (used for the live-memory round of ``train``).
LIVE_MEMORY_ENV = dict(MALLOC_MMAP_THRESHOLD_='131072')

#: name -> (label, lever / description, options of the worker: the
#: ``method`` of :func:`recognizer_cfg` and backbone arguments or
#: measurement switches)
TRAIN_VARIANTS = {
    'full_ft': ('Full fine-tuning', 'CLIPVisual(frozen=False) + TPCM',
                dict(method='full_ft')),
    'frozen': ('Frozen + TPCM', 'CLIPVisual(frozen=True) + TPCM',
               dict(method='frozen')),
    'mafsar': ('MA-FSAR (default)',
               "lma_mode='parallel', fused_attn=True, with_cp=False, "
               'text cache', dict(method='mafsar')),
    'mafsar_unfused': ('MA-FSAR, nn.MultiheadAttention',
                       'fused_attn=False (every attention through the '
                       "block's nn.MultiheadAttention)",
                       dict(method='mafsar', fused_attn=False)),
    'mafsar_math_sdpa':
    ('MA-FSAR, unfused SDPA kernel', 'SDPA limited to the MATH backend',
     dict(method='mafsar', sdpa='math')),
    'mafsar_serial': ('MA-FSAR serial', "lma_mode='serial'",
                      dict(method='mafsar', lma_mode='serial')),
    'mafsar_cp': ('MA-FSAR + ckpt', 'with_cp=True',
                  dict(method='mafsar', with_cp=True)),
    'mafsar_cp_mlp':
    ('MA-FSAR + MLP recompute', "with_cp='mlp' (frozen MLP hidden recomputed)",
     dict(method='mafsar', with_cp='mlp')),
    'mafsar_no_text_cache':
    ('MA-FSAR, no text cache', 'CLIPTextEncoder(cache=False)',
     dict(method='mafsar', text_cache=False)),
    'mafsar_frozen_grads': ('MA-FSAR, grads for frozen weights',
                            'frozen weights requires_grad=True (grads '
                            'computed, not stepped)',
                            dict(method='mafsar', frozen_grads=True)),
    'mafsar_text_released':
    ('MA-FSAR, text tower released', 'text features precomputed, text tower '
     'weights freed', dict(method='mafsar', release_text=True)),
    'full_ft_text_released': ('Full fine-tuning, text tower released',
                              'text features precomputed, text tower '
                              'weights freed',
                              dict(method='full_ft', release_text=True)),
    'full_ft_2t': ('Full fine-tuning, 2 threads', 'torch.set_num_threads(2)',
                   dict(method='full_ft', threads=2)),
    'mafsar_2t': ('MA-FSAR, 2 threads', 'torch.set_num_threads(2)',
                  dict(method='mafsar', threads=2)),
}
