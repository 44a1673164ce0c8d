"""The FgMA paper boxes against their equations, written out here with
the block's own ``nn.MultiheadAttention``, and :class:`FgMABlock`'s
wiring."""
import copy

import pytest
import torch
from open_clip.transformer import ResidualAttentionBlock

from mafsar_mm.models.adapters import (GlobalTemporalAdapter, JointAdapter,
                                       LocalMultimodalAdapter,
                                       LocalSpatiotemporalAdapter)
from mafsar_mm.models.backbones import CLIPViTFgMA, FgMABlock
from mafsar_mm.models.clip import TINY_CLIP_CFG

D, V, T, L = 16, 2, 3, 5


def block():
    torch.manual_seed(0)
    return ResidualAttentionBlock(D, 2, batch_first=True).eval()


def randomised(module, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=g) * 0.3)
    return module


def bottleneck(adapter, x):
    return adapter.fc2(adapter.act(adapter.fc1(x)))


def msa_over(blk, ln_q, ln_kv):
    """The frozen attention, queries ``ln_q``, keys/values ``ln_kv``."""
    return blk.attn(ln_q, ln_kv, ln_kv, need_weights=False)[0]


def tokens(seed=2):
    return torch.randn(
        V * T, L, D, generator=torch.Generator().manual_seed(seed))


def test_gta_is_its_equation():
    blk = block()
    gta = randomised(GlobalTemporalAdapter(D))
    x = tokens()
    out = gta(x, T, lambda t: msa_over(blk, blk.ln_1(t), blk.ln_1(t)))
    c = x[:, 0].reshape(V, T, D)
    ln_c = blk.ln_1(c)
    ref = c + bottleneck(gta, msa_over(blk, ln_c, ln_c))
    assert out.shape == (V * T, 1, D)
    torch.testing.assert_close(out, ref.reshape(V * T, 1, D))
    # zero init: c' = c
    assert torch.equal(GlobalTemporalAdapter(D)(x, T, torch.tanh), x[:, :1])


@pytest.mark.parametrize('fused', [True, False])
@pytest.mark.parametrize('mode', ['parallel', 'serial'])
def test_lma_is_its_equation(mode, fused):
    blk = block()
    lma = randomised(LocalMultimodalAdapter(D, mode=mode))
    fc = randomised(LocalMultimodalAdapter.build_text_fc(8, D))
    wired = FgMABlock(blk, lma=lma, text_fc=fc, fused_attn=fused)
    x, cls = tokens(), tokens(3)[:, :1]
    text = torch.randn(V, 8)
    text_tok = fc(text)[:, None].repeat_interleave(T, 0)  # [V*T, 1, D]
    with torch.no_grad():
        out = lma(x, [cls, text_tok], wired)
        ln_x = blk.ln_1(x)
        ln_z = blk.ln_1(torch.cat([x, cls, text_tok], 1))
        mm = msa_over(blk, ln_x, ln_z)  # = MSA(LN1(Z))[:N+1]
        if mode == 'parallel':
            ref = x + msa_over(blk, ln_x, ln_x) + bottleneck(lma, mm)
        else:
            ref = x + mm + bottleneck(lma, mm)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert torch.equal(wired.text_token(text, T), text_tok)


def test_joint_is_its_equation():
    blk = block()
    joint = randomised(JointAdapter(D, mlp_ratio=0.5, scale=0.3))
    x = tokens()
    mlp = blk.mlp
    out = joint(x, blk.ln_2, mlp)
    ln_x = blk.ln_2(x)
    ref = x + mlp(ln_x) + 0.3 * bottleneck(joint, ln_x)
    assert torch.equal(out, ref)
    assert joint.hidden_channels == D // 2 and not joint.skip_connect


@pytest.mark.parametrize('fused', [True, False])
def test_block_without_adapters_is_the_open_clip_block(fused):
    blk = block()
    x = tokens()
    with torch.no_grad():
        out = FgMABlock(blk, fused_attn=fused)(x, None, T)
        ref = blk(x)
    if fused:
        torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-5)
    else:
        assert torch.equal(out, ref)


def test_bad_block_settings_are_one_message():
    with pytest.raises(
            ValueError,
            match=r"gta_residual='x' is not "
            r"supported; use one of \('token', 'stream'\)"):
        FgMABlock(block(), gta_residual='x')
    with pytest.raises(ValueError, match='LMA needs its Text FC'):
        FgMABlock(block(), lma=LocalMultimodalAdapter(D))
    with pytest.raises(ValueError, match=r"lma_mode='x' is not supported"):
        LocalMultimodalAdapter(D, mode='x')


def test_backbone_wires_its_own_modules_outside_its_tree():
    torch.manual_seed(0)
    model = CLIPViTFgMA(
        clip=dict(model_cfg=TINY_CLIP_CFG), share_lma_lsta=False)
    assert not any('fgma' in k for k in model.state_dict())
    for idx, wired in model.fgma_blocks.items():
        key = str(idx)
        assert wired.block is model.visual.transformer.resblocks[idx]
        assert wired.gta is model.t_adapters[key]
        assert wired.lma is model.m_adapters[key]
        assert wired.lsta is model.st_adapters[key]
        assert wired.text_fc is model.text_fcs[key]
        assert wired.joint is model.j_adapters[key]
        assert type(wired.lsta) is LocalSpatiotemporalAdapter
    # a deep copy (e.g. an EMA model) wires the copies, not the originals
    clone = copy.deepcopy(model)
    assert clone.fgma_blocks[0].gta is clone.t_adapters['0']
    assert clone.fgma_blocks[0].block is clone.visual.transformer.resblocks[0]
