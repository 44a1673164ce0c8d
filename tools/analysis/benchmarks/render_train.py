"""Markdown of section 2 (training step): tables, levers, findings,
profiles and the summary table."""
from typing import List, Optional

from .common import TARGETS
from .markdown import _gib, _ok, _opt_gib, _table
from .train import summarize_train
from .train_variants import TRAIN_VARIANTS


def render_train(res: dict) -> List[str]:
    """Markdown of the training section (tables, levers, profiles)."""
    summ = summarize_train(res)
    lines = [
        f'Setting: {res["episode"]}, {res["num_frames"]} frames, '
        f'{res["size"]}x{res["size"]}, CLIP {res["arch"]} architecture '
        'with random weights, fp32, AdamW over the tunable parameters. '
        f'Timed rounds: {res["rounds"]}; every round runs each variant in '
        f'a fresh process ({res["warmup"]} warm-up + {res["steps"]} timed '
        'steps), in an order rotated per round; one torch thread per '
        'process unless said otherwise. Times are medians over all timed '
        'steps; memory is the median over processes. A step is '
        'preprocessing + forward + backward + AdamW step + `zero_grad`.', '',
        '* **wall**: wall-clock time per step; **CPU**: CPU time of the '
        'process per step. CPU time is the robust measure here: the wall '
        'time also counts the time the process waited for a core on the '
        'shared machine.',
        '* **peak RSS**: peak resident memory during the steps (`VmHWM`, '
        'reset after the model is built) minus the RSS after the imports '
        '(before the model exists): weights + gradients + AdamW state + '
        'activations + temporaries + what glibc malloc keeps of freed '
        'memory, with the default allocator (what a user gets). Median '
        'of the timed processes. **dyn.**: peak RSS minus the RSS after '
        'the model is built (what training adds).',
        '* **live peak**: the same, measured in an extra untimed process '
        'per variant with `MALLOC_MMAP_THRESHOLD_=131072` (every block of '
        '128 KiB or more is mapped on its own and unmapped on free), so '
        'RSS follows the live tensors: the CPU analogue of '
        '`torch.cuda.max_memory_allocated`, free of allocator retention.',
        '* **saved act.**: bytes of the tensors autograd keeps for backward '
        '(one forward pass, unique storages, parameters excluded; with '
        'checkpointing only what lives outside the checkpointed blocks). '
        '**static**: exact bytes of weights (with buffers), gradients and '
        'AdamW state, from the tensors (gradients are freed after every '
        'step, so they never coexist with the activations).', ''
    ]
    rows = []
    for variant, s in summ.items():
        label, lever, _ = TRAIN_VARIANTS[variant]
        st = s['static']
        rows.append((label, lever, f'{st["tunable_params"] / 1e6:.2f} M',
                     f'{s["wall"]:.2f}', f'{s["cpu"]:.2f}',
                     f'{s["forward"]:.2f} / {s["backward"]:.2f} / '
                     f'{s["optimizer"]:.2f}', _gib(s['peak']),
                     _gib(s['peak_over_build']), _opt_gib(s.get('live')),
                     _opt_gib(s.get('saved')),
                     f'{_gib(st["weights"])} / {_gib(st["grads"])} / '
                     f'{_gib(st["optimizer"])}',
                     f'{s.get("time_ratio", float("nan")):.2f}',
                     f'{s.get("cpu_ratio", float("nan")):.2f}',
                     f'{s.get("memory_ratio", float("nan")):.2f}',
                     f'{s.get("live_ratio", float("nan")):.2f}'))
    lines += _table(
        ('variant', 'setting', 'tunable', 'wall s/step', 'CPU s/step',
         'fwd / bwd / opt s', 'peak RSS GiB', 'dyn. GiB', 'live peak GiB',
         'saved act. GiB', 'static GiB (w / g / opt)', 'wall vs full FT',
         'CPU vs full FT', 'RSS vs full FT', 'live vs full FT'), rows)
    return lines


TRAIN_NOTES = [
    'What the levers are:',
    '',
    '* **fused attention** (`CLIPViTFgMA(fused_attn=True)`, the default): '
    'the frozen attentions go through `frozen_attention` '
    '(`mafsar_mm/models/backbones/frozen_attention.py`) '
    'instead of the block\'s `nn.MultiheadAttention`. (1) The projections '
    'run on contiguous batch-first tensors: `nn.MultiheadAttention` '
    'transposes to sequence-first, and `torch.matmul` with a frozen '
    'weight and a non-contiguous input that needs grad does not fold the '
    'batch into one GEMM but runs a batched matmul over an expanded '
    'weight (`aten::bmm`), forward and backward: the biggest slowdown '
    'found. (2) In `lma_mode=\'parallel\'` the q/k/v projection of the '
    'frame tokens is shared by the plain and the multimodal attention, '
    'and the keys/values of frame and extra tokens live in one tensor '
    '(nothing concatenated and saved twice). (3) The frozen output '
    'projection of the multimodal attention is folded into the LMA '
    'adapter\'s down-projection (`Adapter.forward_projected`). Outputs '
    'and gradients equal `nn.MultiheadAttention`\'s up to float rounding '
    '(tests). The "nn.MultiheadAttention" row is the path without it.',
    '* **SDPA kernel**: both paths call `F.scaled_dot_product_attention` '
    '(open_clip\'s `nn.MultiheadAttention` with `need_weights=False` does '
    'too), which picks the fused CPU flash-attention kernel; the '
    '"unfused SDPA kernel" row limits it to the MATH backend.',
    '* **`lma_mode=\'serial\'`**: one (multimodal) attention per block '
    'instead of the plain + multimodal pair of the default '
    '`\'parallel\'` (docs/method.md; a different model, shown for cost).',
    '* **`with_cp=True`**: gradient checkpointing of every adapted frozen '
    'block: only the block inputs are kept, the forward runs twice.',
    "* **`with_cp='mlp'`**: only the hidden activation of each frozen MLP "
    '(`gelu(c_fc(x))`, the largest tensor autograd keeps for an adapted '
    'block) is recomputed in the backward pass, from the MLP input the '
    'joint adapter keeps anyway: one extra `c_fc` GEMM per block.',
    '* **no gradients for frozen weights** (the default): the "grads for '
    'frozen weights" row sets `requires_grad=True` on the frozen tower '
    '(gradients computed, not stepped) to show what freezing saves: the '
    'weight-gradient GEMMs, the gradient buffers, and the activations '
    'autograd keeps only for them (a linear layer\'s input is saved only '
    'when its weight needs a gradient).',
    '* **text features**: `CLIPTextEncoder(cache=True)` (the default) '
    'encodes each class name once; "no text cache" runs the text tower '
    'every step. "text tower released": the features of the (finite) '
    'training class names are computed once and the text tower\'s weights '
    'are freed (a memory lever; shown for full fine-tuning too).',
    '* **threads**: every row runs 1 torch thread per process except the '
    '"2 threads" rows. The machine is shared and oversubscribed: with 2 '
    'threads each OpenMP barrier waits for a descheduled thread, which '
    'adds a scheduler time slice to every op (penalising models with more '
    'small ops) and spins on the CPU.',
]


def render_train_levers(res: dict) -> List[str]:
    """Markdown: each lever against its method's default (``mafsar_*``
    against ``mafsar``, ``full_ft_*`` against ``full_ft``)."""
    summ = summarize_train(res)
    rows = []
    for base_name in ('mafsar', 'full_ft'):
        base = summ.get(base_name)
        if not base:
            continue
        for variant, s in summ.items():
            if not variant.startswith(base_name + '_'):
                continue
            label, lever, _ = TRAIN_VARIANTS[variant]
            rows.append((label, lever, TRAIN_VARIANTS[base_name][0],
                         f'{s["wall"] / base["wall"]:.2f}x',
                         f'{s["cpu"] / base["cpu"]:.2f}x',
                         f'{(s["peak"] - base["peak"]) / 2**30:+.2f} GiB '
                         f'({s["peak"] / base["peak"]:.2f}x)'))
    return _table(
        ('variant', 'lever', 'against', 'wall', 'CPU', 'peak memory'), rows)


def _gelu_input_bytes(train: dict) -> Optional[int]:
    """Bytes of the frozen MLPs' GELU inputs of one episode (kept for
    backward by every method that back-propagates through the tower)."""
    try:
        import open_clip
        vision = open_clip.get_model_config(train['arch'])['vision_cfg']
    except Exception:  # tiny or unknown architectures
        return None
    tokens = (train['size'] // vision['patch_size'])**2 + 1
    frames = 10 * train['num_frames']
    width = vision['width']
    return frames * tokens * int(width * vision.get('mlp_ratio', 4.0)) * \
        4 * vision['layers']


def render_train_findings(res: dict) -> List[str]:
    """Sentences computed from the training results (what each lever
    did, where the time and memory go)."""
    summ = summarize_train(res)
    m, f = summ.get('mafsar'), summ.get('full_ft')
    if not m or not f:
        return []

    def ratio(a: str, b: str, key: str) -> Optional[float]:
        if a in summ and b in summ and summ[b].get(key):
            return summ[a][key] / summ[b][key]
        return None

    lines = [
        f'* Per phase (medians, wall): MA-FSAR\'s forward takes '
        f'{m["forward"] / f["forward"]:.2f}x the time of full '
        'fine-tuning\'s (GTA attention, plain + multimodal attention, '
        f'adapters), its backward {m["backward"] / f["backward"]:.2f}x '
        '(no weight-gradient GEMMs for the frozen tower) and its optimizer '
        f'step {m["optimizer"] / max(f["optimizer"], 1e-9):.2f}x '
        f'({m["static"]["tunable_params"] / 1e6:.1f} M instead of '
        f'{f["static"]["tunable_params"] / 1e6:.1f} M parameters).'
    ]
    uf = ratio('mafsar_unfused', 'mafsar', 'cpu')
    if uf:
        lines.append(
            f'* Fused attention: without it MA-FSAR needs {uf:.2f}x the CPU '
            f'time ({ratio("mafsar_unfused", "mafsar", "wall"):.2f}x wall) '
            'and '
            f'{(summ["mafsar_unfused"]["peak"] - m["peak"]) / 2**30:+.2f} '
            'GiB of peak RSS; it is the lever that matters most for time.')
    sd = ratio('mafsar_math_sdpa', 'mafsar', 'cpu')
    if sd:
        lines.append(
            f'* Fused SDPA kernel: the MATH backend costs {sd:.2f}x the CPU '
            'time and '
            f'{(summ["mafsar_math_sdpa"]["peak"] - m["peak"]) / 2**30:+.2f} '
            'GiB (it materialises the attention matrices).')

    def recompute(variant: str, what: str) -> Optional[str]:
        """The finding of a recomputation (checkpointing) variant."""
        cpu = ratio(variant, 'mafsar', 'cpu')
        if not cpu:
            return None
        mem = ratio(variant, 'full_ft', 'peak')
        time_ = ratio(variant, 'full_ft', 'cpu')
        live = ratio(variant, 'full_ft', 'live')
        live = f', live peak {live:.2f}x' if live else ''
        return (f'* {what}: peak RSS {ratio(variant, "mafsar", "peak"):.2f}x '
                f'of the default ({mem:.2f}x of full fine-tuning{live}) for '
                f'{cpu:.2f}x the CPU time ({time_:.2f}x of full '
                f'fine-tuning): memory target '
                f'{_ok(mem <= TARGETS["train_memory"])}, time target '
                f'{_ok(time_ <= TARGETS["train_time"])}.')

    for variant, what in (('mafsar_cp', 'Gradient checkpointing'),
                          ('mafsar_cp_mlp',
                           "Recomputing only the frozen MLPs' hidden "
                           "activation (`with_cp='mlp'`)")):
        line = recompute(variant, what)
        if line:
            lines.append(line)
    sr = ratio('mafsar_serial', 'mafsar', 'cpu')
    if sr:
        lines.append(
            f"* `lma_mode='serial'`: {sr:.2f}x the CPU time and "
            f'{ratio("mafsar_serial", "mafsar", "peak"):.2f}x the peak '
            'RSS of the default parallel mode (one attention per block '
            'instead of two, but a different model).')
    fg = ratio('mafsar_frozen_grads', 'mafsar', 'cpu')
    if fg:
        cost = summ['mafsar_frozen_grads']['peak'] - m['peak']
        lines.append(
            '* No gradients for frozen weights: computing them would cost '
            f'{fg:.2f}x the CPU time and {cost / 2**30:+.2f} GiB.')
    tc = ratio('mafsar_no_text_cache', 'mafsar', 'cpu')
    if tc:
        lines.append(
            f'* Text cache: without it a step costs {tc:.2f}x the CPU time '
            '(5 prompts through the text tower per step).')
    tr = ratio('mafsar_text_released', 'mafsar', 'peak')
    if tr:
        gain = summ['mafsar_text_released']['peak'] - m['peak']
        lines.append(
            '* Releasing the text tower after precomputing the class-name '
            f'features: {tr:.2f}x the peak RSS ({gain / 2**30:+.2f} GiB); '
            'full fine-tuning gains about the same absolute amount.')
    t2 = ratio('mafsar_2t', 'full_ft_2t', 'wall')
    if t2:
        lines.append(
            f'* Threads: with 2 torch threads per process MA-FSAR takes '
            f'{t2:.2f}x the wall time of full fine-tuning '
            f'({ratio("mafsar_2t", "full_ft_2t", "cpu"):.2f}x CPU) instead '
            f'of {m["wall"] / f["wall"]:.2f}x with 1 thread: on this '
            'oversubscribed machine each of its (more numerous, smaller) '
            'ops waits at OpenMP barriers for a descheduled thread. This is '
            'a property of the shared machine, not of the model; the '
            'comparison uses 1 thread.')
    if m.get('saved') and f.get('saved'):
        gelu = _gelu_input_bytes(res)
        extra = (f' The largest single item, in both, is the input of the '
                 f'frozen MLPs\' GELU ({_gib(gelu)} GiB).' if gelu else '')
        lines.append(
            f'* Activations saved for backward: MA-FSAR {_gib(m["saved"])} '
            f'GiB, full fine-tuning {_gib(f["saved"])} GiB '
            f'({m["saved"] / f["saved"]:.2f}x): frozen linear layers do '
            'not keep their inputs, but the frozen tower is still '
            'back-propagated through (every block has adapters), and the '
            'extra attention and adapters keep their own.' + extra)
    stalled = [(v, s['wall'], s['cpu']) for v, runs in res['runs'].items()
               for r in runs for s in r['steps'] if s['wall'] > 5 * s['cpu']]
    if stalled:
        lines.append(
            '* Stalled samples (wall > 5x CPU time: the process was paused '
            'or starved by the shared machine; the medians over the rounds '
            'keep them out): ' +
            ', '.join(f'{TRAIN_VARIANTS[v][0]} {w:.0f} s wall / {c:.0f} s CPU'
                      for v, w, c in stalled) + '.')
    if m.get('live') and f.get('live'):
        lines.append(
            f'* Allocator: peak RSS exceeds the live peak by '
            f'{(m["peak"] - m["live"]) / 2**30:.2f} GiB for MA-FSAR and '
            f'{(f["peak"] - f["live"]) / 2**30:.2f} GiB for full '
            'fine-tuning (freed memory glibc keeps).')
    return lines


def render_profiles(res: dict) -> List[str]:
    """Markdown of the step profiles (op families and top ops)."""
    profiles = res.get('profiles') or {}
    if not profiles:
        return []
    names = list(profiles)
    families = []
    for prof in profiles.values():
        for fam in prof['families']:
            if fam not in families:
                families.append(fam)
    rows = []
    for fam in families:
        cells = []
        for name in names:
            got = profiles[name]['families'].get(fam)
            cells.append(f'{got["self_ms"] / 1e3:.2f} s '
                         f'({100 * got["share"]:.0f} %)' if got else '-')
        rows.append([fam] + cells)
    rows.append(['**total self CPU**'] +
                [f'{profiles[n]["total_ms"] / 1e3:.2f} s' for n in names])
    for phase in ('forward', 'backward', 'optimizer'):
        rows.append([f'phase: {phase} (incl. children)'] + [
            f'{profiles[n]["phases"].get(phase, float("nan")) / 1e3:.2f} s'
            for n in names
        ])
    lines = _table(['op family (self CPU time)'] +
                   [TRAIN_VARIANTS[n][0] for n in names], rows)
    for name in names:
        lines += [
            '', f'Top ops of **{TRAIN_VARIANTS[name][0]}** by self '
            'CPU time (one profiled step):', ''
        ]
        lines += _table(('op', 'self CPU s', 'share', 'calls'),
                        [(t['op'], f'{t["self_ms"] / 1e3:.2f}',
                          f'{100 * t["share"]:.1f} %', t['calls'])
                         for t in profiles[name]['top']])
    return lines


def _train_summary(train: dict) -> List[str]:
    """The table of training ratios next to the targets."""
    summ = summarize_train(train)
    if 'full_ft' not in summ:
        return []
    best = train.get('recommended', 'mafsar')
    mem_t, time_t = TARGETS['train_memory'], TARGETS['train_time']

    def cell(value: Optional[float], target: float) -> str:
        if value is None:
            return '-'
        return f'**{value:.2f}x** ({_ok(value <= target)})'

    rows = [('target', f'<= {mem_t}', f'<= {mem_t}', f'<= {time_t}',
             f'<= {time_t}'),
            ('paper (one GPU)', '0.88x (11.9 / 13.5 GB)', '-',
             '0.88x (3.0 / 3.4 h per 10k tasks)', '-')]
    # the default, the recommended variant, then the memory levers
    pairs = [(v, 'full_ft')
             for v in dict.fromkeys(('mafsar', best, 'mafsar_cp_mlp',
                                     'mafsar_cp', 'mafsar_serial'))]
    pairs.append(('mafsar_text_released', 'full_ft_text_released'))
    for mine, ref in pairs:
        if mine not in summ or ref not in summ:
            continue
        a, b = summ[mine], summ[ref]
        live = (
            a['live'] / b['live'] if a.get('live') and b.get('live') else None)
        rows.append((f'{TRAIN_VARIANTS[mine][0]} vs '
                     f'{TRAIN_VARIANTS[ref][0].lower()}',
                     cell(a['peak'] / b['peak'], mem_t), cell(live, mem_t),
                     cell(a['wall'] / b['wall'],
                          time_t), cell(a['cpu'] / b['cpu'], time_t)))
    return [
        f'Training step (CLIP {train["arch"]}, 5-way 1-shot, '
        f'{train["num_frames"]} frames x {train["size"]}^2), ratios to full '
        'fine-tuning:', ''
    ] + _table(('', 'memory: peak RSS', 'memory: live peak', 'time: wall',
                'time: CPU'), rows)
