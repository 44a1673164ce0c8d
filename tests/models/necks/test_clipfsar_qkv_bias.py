"""CLIP-FSAR's attention has no q/k/v bias (issue 22 item 6)."""
import torch
import torch.nn.functional as F

from mafsar_mm.models.necks import TPCM, MultimodalTransformer


def _official_attention(layer, x):
    """CLIP-FSAR's ``PreNormattention_qkv`` + ``Attention_qkv``
    (github.com/alibaba-mmai-research/CLIP-FSAR, models/base/few_shot.py
    L1046-1048: ``to_q/to_k/to_v = Linear(dim, inner, bias=False)``,
    ``to_out = Linear(inner, dim)``), written from that formula."""
    attn = layer.attn
    dims, heads = x.shape[-1], attn.num_heads
    w_q, w_k, w_v = attn.in_proj_weight.split(dims)
    h = layer.norm1(x)
    q, k, v = (
        (h @ w.t()).unflatten(-1, (heads, dims // heads)).transpose(1, 2)
        for w in (w_q, w_k, w_v))
    dots = q @ k.transpose(-1, -2) * (dims // heads)**-0.5
    out = (dots.softmax(-1) @ v).transpose(1, 2).flatten(2)
    return x + F.linear(out, attn.out_proj.weight, attn.out_proj.bias)


def test_multimodal_transformer_has_no_qkv_bias_but_output_bias():
    neck = MultimodalTransformer(in_channels=32, num_heads=4,
                                 ffn_channels=64)
    names = dict(neck.named_parameters())
    assert 'layer.attn.in_proj_bias' not in names
    assert 'layer.attn.out_proj.bias' in names
    # TPCM keeps its q/k/v bias (3.15 M parameters of Table 4)
    assert 'layer.attn.in_proj_bias' in dict(
        TPCM(in_channels=32, num_heads=4,
             ffn_channels=64).named_parameters())


def test_multimodal_transformer_attention_matches_official_formula():
    torch.manual_seed(0)
    neck = MultimodalTransformer(in_channels=32, num_heads=4,
                                 ffn_channels=64).eval()
    with torch.no_grad():
        neck.layer.attn.out_proj.bias.normal_()
    x = torch.randn(3, 9, 32)
    ours = x + neck.layer._attend(neck.layer.norm1(x), neck.layer.norm1(x))
    ref = _official_attention(neck.layer, x)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    # a q/k/v bias would change the result: the test can fail
    with_bias = MultimodalTransformer(
        in_channels=32, num_heads=4, ffn_channels=64, qkv_bias=True).eval()
    with_bias.load_state_dict(neck.state_dict(), strict=False)
    with torch.no_grad():
        with_bias.layer.attn.in_proj_bias.normal_()
    assert not torch.allclose(
        x + with_bias.layer._attend(with_bias.layer.norm1(x),
                                    with_bias.layer.norm1(x)), ref,
        atol=1e-3)
