"""A query's result: its classes ranked by score, as a dict and as the
text the demo prints."""
from typing import Sequence

import torch


def ranking_of(query: str, scores: torch.Tensor,
               class_names: Sequence[str]) -> dict:
    """The result dict of one query.

    Args:
        query (str): The query video.
        scores (Tensor): Its class probabilities ``[N]``.
        class_names (Sequence[str]): The N class names.

    Returns:
        dict: ``query``, ``ranking`` (``[(class name, score), ...]``,
        highest first, ties in class order) and ``pred_class``.
    """
    order = torch.argsort(scores, descending=True, stable=True)
    ranking = [(class_names[i], float(scores[i])) for i in order]
    return dict(query=query, ranking=ranking, pred_class=ranking[0][0])


def format_ranking(result: dict, topk: int) -> str:
    """Printable ranking of one query: its path, then ``  1. name  0.8312``
    lines for the ``topk`` best classes."""
    lines = [f'{result["query"]}:']
    for rank, (name, score) in enumerate(result['ranking'][:topk], 1):
        lines.append(f'  {rank}. {name}  {score:.4f}')
    return '\n'.join(lines)
