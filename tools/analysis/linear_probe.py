"""Linear probes by stratified k-fold cross-validation, in torch.

A probe is a multinomial logistic regression on standardised features
(mean and std of the training fold), with L2 weight decay, fitted by
full-batch L-BFGS from zero weights for a fixed number of iterations; the
only randomness is the assignment of samples to folds, drawn from a torch
generator seeded by ``seed``. Used by ``tools/analysis/probe_features.py``.
"""
import math
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

#: Two-sided 95 % normal quantile (Wilson interval).
Z95 = 1.959963984540054


def stratified_folds(labels: Tensor, num_folds: int, seed: int) -> Tensor:
    """The fold of each sample: each class's samples, in a seeded random
    order, dealt to the folds in turn (the deal continuing across
    classes, so fold sizes differ by at most one).

    Args:
        labels (Tensor): Integer labels ``[N]``.
        num_folds (int): Number of folds (>= 2).
        seed (int): Seed of the shuffle.

    Returns:
        Tensor: Fold index in ``[0, num_folds)`` per sample, ``[N]``.
    """
    if num_folds < 2:
        raise ValueError(f'num_folds must be >= 2, got {num_folds}')
    generator = torch.Generator().manual_seed(seed)
    folds = torch.empty(len(labels), dtype=torch.long)
    start = 0
    for label in torch.unique(labels):  # sorted
        index = (labels == label).nonzero().flatten()
        index = index[torch.randperm(len(index), generator=generator)]
        folds[index] = (torch.arange(len(index)) + start) % num_folds
        start += len(index)
    return folds


def fit_logistic(x: Tensor, y: Tensor, num_classes: int,
                 weight_decay: float, steps: int) -> Tuple[Tensor, ...]:
    """Fit a multinomial logistic regression on standardised features.

    Minimises ``mean cross-entropy + weight_decay / 2 * ||W||^2`` (the
    bias is not decayed) in float64 with L-BFGS (strong Wolfe line
    search), starting from zero: deterministic.

    Args:
        x (Tensor): Features ``[N, F]``.
        y (Tensor): Labels in ``[0, num_classes)``, ``[N]``.
        num_classes (int): Number of classes.
        weight_decay (float): L2 weight of the weights.
        steps (int): L-BFGS iterations.

    Returns:
        tuple[Tensor]: ``(mean, std, weight, bias)``, for
        :func:`predict_logistic`.
    """
    x = x.double()
    mean = x.mean(0)
    std = x.std(0, unbiased=False).clamp_min(1e-8)
    z = (x - mean) / std
    weight = torch.zeros(x.shape[1], num_classes, dtype=torch.float64,
                         requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias],
                                  lr=1.0,
                                  max_iter=steps,
                                  history_size=20,
                                  tolerance_grad=1e-10,
                                  tolerance_change=1e-12,
                                  line_search_fn='strong_wolfe')

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(z @ weight + bias, y) + (
            0.5 * weight_decay * weight.pow(2).sum())
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return mean, std, weight.detach(), bias.detach()


def predict_logistic(params: Tuple[Tensor, ...], x: Tensor) -> Tensor:
    """Predicted labels ``[N]`` of a :func:`fit_logistic` model."""
    mean, std, weight, bias = params
    return (((x.double() - mean) / std) @ weight + bias).argmax(1)


def cross_validated_correct(x: Tensor, labels: Tensor, num_folds: int,
                            seed: int, weight_decay: float = 1e-2,
                            steps: int = 100) -> Tensor:
    """Whether each sample is predicted right by the probe trained on the
    other folds (every sample is held out once).

    Args:
        x (Tensor): Features ``[N, F]``.
        labels (Tensor): Integer labels ``[N]`` (any values).
        num_folds (int): Folds of :func:`stratified_folds`.
        seed (int): Seed of the folds.
        weight_decay (float): See :func:`fit_logistic`. Defaults to 1e-2.
        steps (int): See :func:`fit_logistic`. Defaults to 100.

    Returns:
        Tensor: bool ``[N]``.
    """
    if x.dim() != 2 or len(x) != len(labels):
        raise ValueError(f'features [N, F] and labels [N] expected, got '
                         f'{tuple(x.shape)} and {tuple(labels.shape)}')
    classes, y = torch.unique(labels, return_inverse=True)
    folds = stratified_folds(y, num_folds, seed)
    correct = torch.zeros(len(y), dtype=torch.bool)
    for fold in range(num_folds):
        test = folds == fold
        if not test.any():
            continue
        params = fit_logistic(x[~test], y[~test], len(classes),
                              weight_decay, steps)
        correct[test] = predict_logistic(params, x[test]) == y[test]
    return correct


def wilson_interval(correct: int, total: int) -> Tuple[float, float]:
    """95 % Wilson score interval of a proportion, in percent."""
    if total <= 0:
        return (float('nan'), float('nan'))
    p = correct / total
    z2 = Z95 * Z95
    denom = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / total + z2 /
                           (4 * total * total)) / denom
    # the exact bounds at 0 and 1 (rounding would put them inside)
    low = 0.0 if correct == 0 else max(centre - half, 0.0)
    high = 1.0 if correct == total else min(centre + half, 1.0)
    return (100 * low, 100 * high)


def majority_count(labels: Tensor) -> int:
    """Samples of the most frequent label (a constant guess's hits)."""
    return int(torch.unique(labels, return_counts=True)[1].max())


def summarise(correct: Tensor, folds: Sequence[Tensor],
              chance_hits: int) -> Dict:
    """Accuracy (percent) of held-out predictions with its 95 % Wilson
    interval, the per-fold accuracies and the chance level (the
    majority-label guess, percent).

    Args:
        correct (Tensor): bool ``[N]``, see
            :func:`cross_validated_correct`.
        folds (Sequence[Tensor]): bool masks of each fold's samples;
            empty folds are left out of ``fold_accuracies``.
        chance_hits (int): Hits of the majority-label guess.
    """
    n = len(correct)
    hits = int(correct.sum())
    fold_acc: List[float] = [
        100 * float(correct[m].double().mean()) for m in folds if m.any()
    ]
    return dict(
        accuracy=100 * hits / n,
        ci95=list(wilson_interval(hits, n)),
        fold_accuracies=fold_acc,
        chance=100 * chance_hits / n,
        n=n)


def probe(x: Tensor, labels: Tensor, num_folds: int, seed: int,
          weight_decay: float = 1e-2, steps: int = 100) -> Dict:
    """Cross-validated accuracy of a linear probe, see :func:`summarise`
    (also ``num_classes``)."""
    correct = cross_validated_correct(x, labels, num_folds, seed,
                                      weight_decay, steps)
    folds = stratified_folds(
        torch.unique(labels, return_inverse=True)[1], num_folds, seed)
    result = summarise(correct, [folds == f for f in range(num_folds)],
                       majority_count(labels))
    result['num_classes'] = int(len(torch.unique(labels)))
    return result


def pairwise_probe(x: Tensor, labels: Tensor,
                   pairs: Sequence[Tuple[int, int]], num_folds: int,
                   seed: int, weight_decay: float = 1e-2,
                   steps: int = 100) -> Dict:
    """Within each pair of labels, which member: one binary probe per
    pair on that pair's samples; the held-out predictions of all pairs
    are pooled (see :func:`summarise`; ``fold_accuracies`` pool fold f of
    every pair), ``per_pair`` gives each pair's accuracy.

    Args:
        x (Tensor): Features ``[N, F]``.
        labels (Tensor): Integer labels ``[N]``.
        pairs (Sequence[tuple[int, int]]): ``(first, second)`` labels,
            each with samples in ``labels``.
        num_folds (int): Folds of every pair's cross-validation.
        seed (int): Seed of the folds.
        weight_decay (float): See :func:`fit_logistic`.
        steps (int): See :func:`fit_logistic`.
    """
    correct, fold_of, chance, per_pair = [], [], 0, []
    for first, second in pairs:
        mask = (labels == first) | (labels == second)
        target = (labels[mask] == second).long()
        hits = cross_validated_correct(x[mask], target, num_folds, seed,
                                       weight_decay, steps)
        correct.append(hits)
        fold_of.append(stratified_folds(target, num_folds, seed))
        chance += majority_count(target)
        per_pair.append(
            dict(pair=[int(first), int(second)],
                 accuracy=100 * float(hits.double().mean()),
                 n=int(mask.sum())))
    correct_all, folds = torch.cat(correct), torch.cat(fold_of)
    result = summarise(correct_all, [folds == f for f in range(num_folds)],
                       chance)
    result.update(num_classes=2, per_pair=per_pair)
    return result
