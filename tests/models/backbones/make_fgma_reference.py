"""Write ``data/fgma_reference.pt``: seeded ``CLIPViTFgMA`` builds, their
parameters and their forward/backward results, for
``test_fgma_reference.py``.

The file committed was written from the code before FgMA was split into
paper-box modules (commit 8d9a971); the test checks that the refactored
backbone gives bit-identical parameters (same RNG order) and the same
outputs and gradients. Run from the repository root::

    python tests/models/backbones/make_fgma_reference.py
"""
import hashlib
import os.path as osp

import torch

from mafsar_mm.models.backbones import CLIPViTFgMA
from mafsar_mm.models.clip import TINY_CLIP_CFG

V, T, RES, TEXT = 2, 4, 64, 64

#: Settings covering every branch of the FgMA block.
CASES = {
    'default':
    dict(),
    'unshared_shared_fc':
    dict(share_lma_lsta=False, text_fc='shared'),
    'low_rank_fc':
    dict(text_fc_rank=8, joint_ratio=0.5),
    'serial':
    dict(lma_mode='serial'),
    'serial_unfused':
    dict(lma_mode='serial', fused_attn=False),
    'stream_pos':
    dict(gta_residual='stream', temporal_pos_embed=True, num_frames=T),
    'last_layer':
    dict(adapted_layers=[-1]),
    'no_gta':
    dict(with_gta=False),
    'no_gta_serial':
    dict(with_gta=False, lma_mode='serial'),
    'no_lma':
    dict(with_lma=False),
    'no_joint':
    dict(with_joint=False),
    'unfused':
    dict(fused_attn=False),
    'unshared_stream':
    dict(share_lma_lsta=False, gta_residual='stream'),
    'cp_mlp':
    dict(with_cp='mlp'),
    'cp':
    dict(with_cp=True),
    'not_frozen':
    dict(frozen=False),
}


def digest(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's bytes."""
    data = tensor.detach().contiguous().view(torch.uint8).numpy()
    return hashlib.sha256(data.tobytes()).hexdigest()


def build(kwargs: dict, seed: int = 0) -> CLIPViTFgMA:
    """A seeded build (CLIP tower and adapters from the global RNG)."""
    torch.manual_seed(seed)
    return CLIPViTFgMA(clip=dict(model_cfg=TINY_CLIP_CFG), **kwargs)


def run(backbone: CLIPViTFgMA) -> dict:
    """Randomise the tunable parameters, then forward (support with text,
    query without) in eval mode and forward/backward in train mode.

    Returns the outputs, and the SHA-256 and norm of every gradient.
    """
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _, param in backbone.named_parameters():
            if param.requires_grad:
                param.copy_(torch.randn(param.shape, generator=g) * 0.2)
    imgs = torch.randn(V, 3, T, RES, RES, generator=g)
    text = torch.randn(V, TEXT, generator=g)
    out = {}
    backbone.eval()
    with torch.no_grad():
        out['eval_support'] = backbone(imgs, text)
        out['eval_query'] = backbone(imgs)
    backbone.train()
    support = backbone(imgs, text)
    query = backbone(imgs)
    loss = (support * query.flip(0)).sum() + support.pow(2).mean()
    loss.backward()
    out['train_support'] = support.detach()
    out['train_query'] = query.detach()
    grads = {
        name: param.grad
        for name, param in backbone.named_parameters()
        if param.grad is not None
    }
    # bit patterns, and norms for a machine of another CPU capability
    out['grad_digests'] = {k: digest(v) for k, v in grads.items()}
    out['grad_norms'] = {k: v.double().norm().item() for k, v in grads.items()}
    return out


def main() -> None:
    torch.set_num_threads(1)
    ref = dict(
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        torch=str(torch.__version__),
        cases={})
    for name, kwargs in CASES.items():
        backbone = build(kwargs)
        params = {k: digest(v) for k, v in backbone.state_dict().items()}
        ref['cases'][name] = dict(
            kwargs=kwargs, params=params, **run(backbone))
    path = osp.join(osp.dirname(__file__), 'data', 'fgma_reference.pt')
    torch.save(ref, path)
    print(f'wrote {path}: {len(CASES)} cases')


if __name__ == '__main__':
    main()
