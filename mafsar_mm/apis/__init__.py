"""Inference and analysis on a user's own videos."""
from .attention_maps import (AttentionRecorder, class_token_attention,
                             compute_attention_maps, draw_attention_grid,
                             grid_image_size, patch_maps)
from .fewshot_inferencer import (FewShotInferencer, format_ranking,
                                 support_from_dir, support_from_list)
from .support_checks import check_support

__all__ = [
    'FewShotInferencer', 'format_ranking', 'check_support', 'support_from_dir',
    'support_from_list', 'AttentionRecorder', 'class_token_attention',
    'compute_attention_maps', 'draw_attention_grid', 'grid_image_size',
    'patch_maps'
]
