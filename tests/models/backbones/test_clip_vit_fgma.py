import pytest
import torch
from torch import nn

from mafsar_mm.models.backbones import CLIPViTFgMA
from mafsar_mm.models.necks import TPCM
from mafsar_mm.models.clip import TINY_CLIP_CFG

V, T, RES = 3, 4, 64


def make(path, **kwargs):
    return CLIPViTFgMA(
        clip=dict(model_cfg=TINY_CLIP_CFG, pretrained=path), **kwargs)


def videos(seed=0, num=V):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(num, 3, T, RES, RES, generator=g)


def frame_features(clip, imgs):
    """Reference: ``encode_image`` on every frame: [V, T, D']."""
    num = imgs.shape[0]
    frames = imgs.permute(0, 2, 1, 3, 4).reshape(num * T, 3, RES, RES)
    with torch.no_grad():
        return clip.encode_image(frames).reshape(num, T, -1)


def randomise_adapters(backbone, std=0.2, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in backbone.named_parameters():
            if param.requires_grad:
                param.copy_(torch.randn(param.shape, generator=g) * std)


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(share_lma_lsta=False, text_fc='shared'),
    dict(gta_residual='stream', temporal_pos_embed=True, num_frames=T),
    dict(adapted_layers=[-1]),
    dict(with_gta=False),
    dict(with_lma=False, with_joint=False),
])
def test_zero_adapters_reproduce_clip(tiny, kwargs):
    clip, path = tiny
    backbone = make(path, **kwargs)
    imgs = videos()
    text = torch.randn(V, 64)
    ref = frame_features(clip, imgs)
    with torch.no_grad():
        query = backbone(imgs)
        support = backbone(imgs, text)
    assert query.shape == (V, T, 64) and backbone.output_dim == 64
    assert torch.allclose(query, ref, atol=1e-5)
    assert torch.allclose(support, ref, atol=1e-5)
    # also in train mode (the frozen tower stays in eval mode)
    backbone.train()
    assert not backbone.visual.training
    assert torch.allclose(backbone(imgs, text), ref, atol=1e-5)


def test_text_changes_support_but_query_ignores_text(tiny):
    _, path = tiny
    backbone = make(path).eval()
    randomise_adapters(backbone)
    imgs = videos()
    text_a, text_b = torch.randn(2, V, 64)
    with torch.no_grad():
        sup_a = backbone(imgs, text_a)
        sup_b = backbone(imgs, text_b)
        query = backbone(imgs)
        # query branch never reads the text FCs
        for fc in backbone.text_fcs.values():
            fc.weight.add_(torch.randn_like(fc.weight))
        query_again = backbone(imgs)
        sup_c = backbone(imgs, text_a)
    assert (sup_a - sup_b).abs().max() > 1e-3
    assert (sup_a - sup_c).abs().max() > 1e-3
    assert not torch.allclose(sup_a, query, atol=1e-3)
    assert torch.equal(query, query_again)


def test_videos_are_encoded_independently(tiny):
    _, path = tiny
    backbone = make(path, temporal_pos_embed=True, num_frames=T).eval()
    randomise_adapters(backbone)
    imgs = videos(num=3)
    text = torch.randn(3, 64)
    with torch.no_grad():
        batch = backbone(imgs, text)
        single = backbone(imgs[1:2], text[1:2])
        frames_shuffled = backbone(imgs[:, :, [1, 0, 2, 3]], text)
    assert torch.allclose(batch[1:2], single, atol=1e-5)
    # GTA mixes frames: reordering frames is not a plain permutation
    assert not torch.allclose(frames_shuffled[:, [1, 0, 2, 3]], batch,
                              atol=1e-4)


def test_serial_lma_mode_runs_and_is_not_identity(tiny):
    clip, path = tiny
    backbone = make(path, lma_mode='serial').eval()
    imgs = videos()
    with torch.no_grad():
        out = backbone(imgs, torch.randn(V, 64))
    assert out.shape == (V, T, 64)
    # extra tokens take part in the frozen softmax: no exact identity
    assert not torch.allclose(out, frame_features(clip, imgs), atol=1e-5)


def test_one_adamw_step_only_updates_tunable_parts(tiny):
    clip, path = tiny
    model = nn.ModuleDict(
        dict(
            backbone=make(path, temporal_pos_embed=True, num_frames=T),
            neck=TPCM(in_channels=64, num_heads=2, ffn_channels=128)))
    model.train()
    frozen_before = {
        k: v.clone()
        for k, v in model.state_dict().items() if '.visual.' in f'.{k}'
    }
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    tunable = {k for k, v in model.named_parameters() if v.requires_grad}
    assert all(k.startswith('neck.') or k.split('.')[1] in (
        't_adapters', 'm_adapters', 'j_adapters', 'text_fcs',
        'temporal_embedding') for k in tunable)
    assert not any('.visual.' in k for k in tunable)
    optim = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3)
    imgs = videos()
    text = torch.randn(V, 64)
    support = model['backbone'](imgs, text)
    query = model['backbone'](videos(1, num=2))
    sup, qry = model['neck'](support, query, text)
    loss = (sup.mean(1) @ qry.mean(1).t()).pow(2).sum()
    loss.backward()
    for name, param in model.named_parameters():
        if not param.requires_grad:
            assert param.grad is None, name
    optim.step()
    for key, value in model.state_dict().items():
        if key in frozen_before:
            assert torch.equal(value, frozen_before[key]), key
    changed = {
        k
        for k, v in model.named_parameters()
        if not torch.equal(v.detach(), before[k])
    }
    assert changed <= tunable
    assert {'backbone.j_adapters.0.fc2.weight',
            'backbone.m_adapters.1.fc2.weight',
            'neck.layer.attn.in_proj_weight'} <= changed
    # the open_clip weights themselves are bit-identical
    ref = clip.visual.state_dict()
    for key, value in model['backbone'].visual.state_dict().items():
        assert torch.equal(value, ref[key]), key


def test_pretrained_parameter_names_unchanged(tiny):
    clip, path = tiny
    wrapper = nn.Module()
    wrapper.backbone = make(path)
    keys = set(wrapper.state_dict())
    expected = {f'backbone.visual.{k}' for k in clip.visual.state_dict()}
    assert expected <= keys
    assert 'backbone.visual.transformer.resblocks.0.attn.in_proj_weight' \
        in keys
    assert {k for k in keys if '.visual.' in k} == expected
    # loading a plain open_clip visual state dict under the prefix works
    missing, unexpected = wrapper.load_state_dict(
        {f'backbone.visual.{k}': v
         for k, v in clip.visual.state_dict().items()},
        strict=False)
    assert not unexpected
    assert all('adapters' in k or 'text_fc' in k for k in missing)


@pytest.mark.parametrize('with_cp', [True, 'mlp'])
def test_with_cp_gives_same_output_and_gradients(tiny, with_cp):
    _, path = tiny
    torch.manual_seed(0)
    # block 0 is a plain frozen block, block 1 an adapted one
    plain = make(
        path, temporal_pos_embed=True, num_frames=T, adapted_layers=[1])
    randomise_adapters(plain)
    ckpt = make(path, temporal_pos_embed=True, num_frames=T,
                with_cp=with_cp, adapted_layers=[1])
    ckpt.load_state_dict(plain.state_dict())
    imgs = videos()
    text = torch.randn(V, 64)
    outs = []
    for model in (plain, ckpt):
        model.train()
        model.zero_grad()
        out = model(imgs, text)
        (out.pow(2).mean() + model(imgs).sum()).backward()
        outs.append((out.detach(), {
            k: p.grad.clone()
            for k, p in model.named_parameters() if p.requires_grad
        }))
    assert torch.allclose(outs[0][0], outs[1][0], atol=1e-6)
    assert outs[0][1].keys() == outs[1][1].keys()
    for key, grad in outs[0][1].items():
        assert torch.allclose(grad, outs[1][1][key], atol=1e-6), key


def test_with_cp_mlp_keeps_no_mlp_hidden_activation(tiny):
    """with_cp='mlp' drops the saved [.., 4D] MLP hidden tensors of the
    adapted blocks: fewer bytes saved for backward than without it."""
    from torch.autograd.graph import saved_tensors_hooks
    _, path = tiny

    def saved_bytes(model):
        params = {p.untyped_storage().data_ptr() for p in model.parameters()}
        seen = {}

        def pack(t):
            storage = t.untyped_storage()
            if storage.data_ptr() not in params:
                seen[storage.data_ptr()] = storage.nbytes()
            return t

        with saved_tensors_hooks(pack, lambda t: t):
            model(videos(), torch.randn(V, 64)).sum()
        return sum(seen.values())

    plain = make(path, num_frames=T)
    lean = make(path, num_frames=T, with_cp='mlp')
    lean.load_state_dict(plain.state_dict())
    tokens = V * T * (plain.visual.positional_embedding.shape[0])
    hidden = tokens * plain.visual.transformer.resblocks[0].mlp.c_fc.\
        out_features * 4  # fp32 bytes of one MLP hidden tensor
    layers = len(plain.adapted_layers)
    assert saved_bytes(plain) - saved_bytes(lean) >= layers * hidden
    with pytest.raises(ValueError, match="True, False or 'mlp'"):
        make(path, with_cp='all')


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(lma_mode='serial'),
    dict(gta_residual='stream', share_lma_lsta=False),
    dict(with_gta=False, frozen=False),
])
def test_fused_attention_matches_multihead_attention(tiny, kwargs):
    """The fused frozen attention (shared q/k/v, contiguous projections)
    gives nn.MultiheadAttention's outputs and gradients."""
    _, path = tiny
    fused = make(path, **kwargs)
    randomise_adapters(fused)
    plain = make(path, fused_attn=False, **kwargs)
    plain.load_state_dict(fused.state_dict())
    assert fused.fused_attn and not plain.fused_attn
    imgs = videos()
    text = torch.randn(V, 64)
    outs = []
    for model in (fused, plain):
        model.eval()
        model.zero_grad()
        support, query = model(imgs, text), model(imgs)
        (support.pow(2).mean() + query.sum()).backward()
        outs.append(((support.detach(), query.detach()), {
            k: p.grad.clone()
            for k, p in model.named_parameters() if p.grad is not None
        }))
    for got, ref in zip(outs[0][0], outs[1][0]):
        assert torch.allclose(got, ref, atol=1e-5)
    assert outs[0][1].keys() == outs[1][1].keys()
    for key, grad in outs[0][1].items():
        assert torch.allclose(grad, outs[1][1][key], atol=1e-4,
                              rtol=1e-4), key


def test_unfrozen_tower_is_trainable(tiny):
    _, path = tiny
    backbone = make(path, frozen=False)
    assert all(p.requires_grad for p in backbone.visual.parameters())
    backbone.train()
    assert backbone.visual.training


@pytest.mark.parametrize('kwargs, match', [
    (dict(text_fc='per_block'), 'text_fc'),
    (dict(lma_mode='sequential'), 'lma_mode'),
    (dict(gta_residual='both'), 'gta_residual'),
    (dict(adapted_layers=[5]), 'adapted_layers'),
    (dict(adapter_ratio=0), 'adapter_ratio'),
])
def test_bad_options(tiny, kwargs, match):
    _, path = tiny
    with pytest.raises(ValueError, match=match):
        make(path, **kwargs)


def test_bad_inputs(tiny):
    _, path = tiny
    backbone = make(path, temporal_pos_embed=True, num_frames=8)
    with pytest.raises(ValueError, match='V, C, T, H, W'):
        backbone(torch.randn(2, 3, RES, RES))
    with pytest.raises(ValueError, match='text must be'):
        backbone(videos(), torch.randn(V, 32))
    with pytest.raises(ValueError, match='num_frames'):
        backbone(videos())


def test_registry_build(tiny):
    from mmaction.registry import MODELS
    _, path = tiny
    backbone = MODELS.build(
        dict(
            type='CLIPViTFgMA',
            clip=dict(model_cfg=TINY_CLIP_CFG, pretrained=path)))
    assert isinstance(backbone, CLIPViTFgMA)
    backbone.init_weights()  # keeps zero-initialised adapters
    assert all(a.fc2.weight.abs().sum() == 0
               for a in backbone.j_adapters.values())
