"""TRX: temporal-relational cross-transformer (Perrett et al.,
"Temporal-Relational CrossTransformers for Few-Shot Action Recognition",
CVPR 2021; reference code github.com/tobyperrett/trx, ``model.py``).

Written from the paper and the reference's behaviour; the code is not
copied. Differences from the reference: the per-class loop is replaced by
grouping the supports by class (padded and masked when classes have
different shot counts), and the reference's ``norm_v`` LayerNorm, created but
never used, is left out (it would hold parameters that get no gradient).
"""
import math
from itertools import combinations
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

from .base_matcher import BaseMatcher


def group_by_class(labels: Tensor, num_classes: int) -> Tuple[Tensor, Tensor]:
    """Support indices of each class, padded to the largest shot count.

    Args:
        labels (Tensor): Labels ``[S]`` in ``0..N-1``, in any order.
        num_classes (int): The number of classes ``N``.

    Returns:
        tuple[Tensor, Tensor]: Long indices ``[N, K]`` (shots in their
        input order, padding points at index 0) and a boolean mask
        ``[N, K]`` that is False at padding.
    """
    labels = labels.long()
    counts = torch.bincount(labels, minlength=num_classes)  # [N]
    sorted_labels, order = torch.sort(labels, stable=True)  # [S]
    starts = torch.cumsum(counts, dim=0) - counts  # [N]
    rank = torch.arange(len(labels), device=labels.device) - \
        starts[sorted_labels]  # [S]
    num_shots = int(counts.max())
    index = labels.new_zeros(num_classes, num_shots)
    valid = torch.zeros_like(index, dtype=torch.bool)
    index[sorted_labels, rank] = order
    valid[sorted_labels, rank] = True
    return index, valid


class SinusoidalPositionalEncoding(nn.Module):
    """Fixed sinusoidal positional encoding over frames, scaled as in TRX.

    ``pe[t, 2i] = scale * sin(t / 10000^(2i / D))`` and
    ``pe[t, 2i + 1] = scale * cos(t / 10000^(2i / D))`` (Vaswani et al.,
    2017) with ``scale = 0.1``; then dropout.

    Args:
        dim (int): Feature size ``D``.
        max_len (int): Maximum number of frames.
        dropout (float): Dropout after adding the encoding. Defaults to 0.1.
        scale (float): Factor on the encoding. Defaults to 0.1.
    """

    def __init__(self,
                 dim: int,
                 max_len: int,
                 dropout: float = 0.1,
                 scale: float = 0.1) -> None:
        super().__init__()
        position = torch.arange(max_len, dtype=torch.float32)[:, None]
        inv_freq = torch.exp(
            torch.arange(0, dim, 2, dtype=torch.float32) *
            (-math.log(10000.0) / dim))  # [ceil(D / 2)]
        pe = torch.zeros(max_len, dim)
        pe[:, 0::2] = torch.sin(position * inv_freq) * scale
        pe[:, 1::2] = torch.cos(position * inv_freq[:dim // 2]) * scale
        self.register_buffer('pe', pe, persistent=False)  # [L, D]
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """Add the encoding to ``x`` of shape ``[B, T, D]``."""
        return self.dropout(x + self.pe[:x.shape[1]].to(x.dtype))


class TemporalCrossTransformer(nn.Module):
    """TRX cross-transformer for one tuple cardinality.

    Args:
        in_channels (int): Frame feature size ``D``.
        seq_len (int): Number of frames ``T``.
        temporal_set_size (int): Tuple cardinality ``omega``.
        out_channels (int): Key/value size.
        dropout (float): Dropout of the positional encoding.
    """

    def __init__(self, in_channels: int, seq_len: int, temporal_set_size: int,
                 out_channels: int, dropout: float) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pe = SinusoidalPositionalEncoding(
            in_channels, max_len=int(seq_len * 1.5), dropout=dropout)
        tuple_dim = in_channels * temporal_set_size
        self.k_linear = nn.Linear(tuple_dim, out_channels)
        self.v_linear = nn.Linear(tuple_dim, out_channels)
        self.norm_k = nn.LayerNorm(out_channels)
        # All ordered frame tuples i < j < ..., in itertools order.
        tuples = torch.tensor(
            list(combinations(range(seq_len), temporal_set_size)),
            dtype=torch.long).reshape(-1, temporal_set_size)  # [P, omega]
        self.register_buffer('tuples', tuples, persistent=False)

    def _tuple_features(self, x: Tensor) -> Tensor:
        """Concatenate the frames of every tuple: [B, T, D] -> [B, P, wD]."""
        x = self.pe(x)  # [B, T, D]
        x = x[:, self.tuples]  # [B, P, omega, D]
        return x.flatten(2)  # [B, P, omega * D]

    def forward(self, support: Tensor, class_index: Tensor,
                class_valid: Tensor, query: Tensor) -> Tensor:
        """Distances from every query to its query-specific prototypes.

        Args:
            support (Tensor): Support features ``[S, T, D]``.
            class_index (Tensor): Long ``[N, K]``: the support indices of
                each class, padded to the largest shot count ``K``.
            class_valid (Tensor): Boolean ``[N, K]``, False at padding.
            query (Tensor): Query features ``[Q, T, D]``.

        Returns:
            Tensor: Distances of shape ``[Q, N]``.
        """
        support_tuples = self._tuple_features(support)  # [S, P, wD]
        query_tuples = self._tuple_features(query)  # [Q, P, wD]
        support_k = self.norm_k(self.k_linear(support_tuples))  # [S, P, C]
        query_k = self.norm_k(self.k_linear(query_tuples))  # [Q, P, C]
        support_v = self.v_linear(support_tuples)  # [S, P, C]
        query_v = self.v_linear(query_tuples)  # [Q, P, C]

        # Group the supports by class.
        class_k = support_k[class_index]  # [N, K, P, C]
        class_v = support_v[class_index]  # [N, K, P, C]
        num_classes, _, num_p, channels = class_k.shape
        num_q = query_k.shape[0]
        scores = torch.einsum('qpc,nkrc->nqpkr', query_k, class_k)
        scores = scores / math.sqrt(self.out_channels)  # [N, Q, P, K, P]
        scores = scores.masked_fill(~class_valid[:, None, None, :, None],
                                    float('-inf'))
        # Each query tuple attends to all tuples of all shots of a class.
        attn = F.softmax(
            scores.reshape(num_classes, num_q * num_p, -1),
            dim=-1)  # [N, QP, KP]
        class_v = class_v.reshape(num_classes, -1, channels)  # [N, KP, C]
        prototypes = torch.bmm(attn, class_v)  # [N, QP, C]
        prototypes = prototypes.reshape(num_classes, num_q, num_p, channels)
        diff = query_v[None] - prototypes  # [N, Q, P, C]
        # Squared Euclidean distance, averaged over the query tuples.
        dists = diff.pow(2).sum(dim=(-2, -1)) / num_p  # [N, Q]
        return dists.t()  # [Q, N]


@MODELS.register_module()
class TRXMatcher(BaseMatcher):
    """Temporal-relational cross-transformer (TRX) matcher.

    TRX: Perrett et al., CVPR 2021 (github.com/tobyperrett/trx). For each
    tuple cardinality ``omega`` in ``temporal_set_size``: add a sinusoidal
    positional encoding (scaled by 0.1, then dropout) to the frames, build
    all ordered frame tuples ``i1 < ... < i_omega`` and concatenate their
    frames, map them with linear key and value maps (LayerNorm on the
    keys), let every query tuple attend (softmax of scaled dot products)
    over all tuples of all shots of a class to build a query-specific class
    prototype, and take the squared Euclidean distance between query tuple
    values and prototype, averaged over the query tuples. The distances are
    averaged over the cardinalities; logits = -distance. No temperature is
    applied.

    Args:
        in_channels (int): Frame feature size ``D``. Defaults to 512.
        seq_len (int): Number of frames ``T``; inputs with another ``T``
            are rejected. Defaults to 8.
        temporal_set_size (Sequence[int]): Tuple cardinalities. Defaults to
            ``(2, 3)``.
        trans_linear_out_dim (int): Key/value size. Defaults to 1152.
        dropout (float): Dropout after the positional encoding. Defaults to
            0.1.
        init_cfg (dict, optional): MMEngine initialisation config; None
            keeps PyTorch's default initialisation, as TRX. Defaults to
            None.
    """

    def __init__(self,
                 in_channels: int = 512,
                 seq_len: int = 8,
                 temporal_set_size: Sequence[int] = (2, 3),
                 trans_linear_out_dim: int = 1152,
                 dropout: float = 0.1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        temporal_set_size = tuple(int(s) for s in temporal_set_size)
        if not temporal_set_size or any(s < 1 or s > seq_len
                                        for s in temporal_set_size):
            raise ValueError('temporal_set_size must be a non-empty list of '
                             f'cardinalities in 1..{seq_len}, got '
                             f'{temporal_set_size}.')
        self.in_channels = in_channels
        self.seq_len = seq_len
        self.temporal_set_size = temporal_set_size
        self.trans_linear_out_dim = trans_linear_out_dim
        self.transformers = nn.ModuleList([
            TemporalCrossTransformer(in_channels, seq_len, size,
                                     trans_linear_out_dim, dropout)
            for size in temporal_set_size
        ])

    def check_inputs(self, support: Tensor, query: Tensor) -> None:
        """TRX is built for one ``T`` and ``D``."""
        if support.shape[1] != self.seq_len or \
                support.shape[2] != self.in_channels:
            raise ValueError(
                f'TRXMatcher was built for T={self.seq_len} frames of '
                f'D={self.in_channels} features, got support '
                f'{tuple(support.shape)} and query {tuple(query.shape)}.')

    def match(self, support: Tensor, support_labels: Tensor, query: Tensor,
              num_classes: int) -> Tensor:
        """Minus the TRX distance, ``[Q, N]``."""
        class_index, class_valid = group_by_class(support_labels,
                                                  num_classes)  # [N, K]
        dists = [
            t(support, class_index, class_valid, query)
            for t in self.transformers
        ]  # len(temporal_set_size) x [Q, N]
        dists = torch.stack(dists, dim=-1)  # [Q, N, len(temporal_set_size)]
        return -dists.mean(dim=-1)  # [Q, N]

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, seq_len={self.seq_len}, '
                f'temporal_set_size={self.temporal_set_size}, '
                f'trans_linear_out_dim={self.trans_linear_out_dim}')
