"""LSTA, the query-branch box of MA-FSAR's FgMA (arXiv 2308.01532,
Fig. 2)."""
from mmaction.registry import MODELS

from .local_multimodal_adapter import LocalMultimodalAdapter


@MODELS.register_module()
class LocalSpatiotemporalAdapter(LocalMultimodalAdapter):
    """Local Spatiotemporal Adaptation (LSTA): LMA without the text token.

    Paper box "LSTA" of FgMA (docs/method.md; SPEC §2.2, item 3): per
    frame ``Z_t = [X_t (N+1), c'_t]`` and the equations of
    :class:`LocalMultimodalAdapter` with ``A_ST`` in place of ``A_M``.
    Query videos have no class text, so this is what they go through.
    ``CLIPViTFgMA(share_lma_lsta=True)`` (the default) uses the LMA
    adapter itself for LSTA; this class is the separate ``A_ST`` of
    ``share_lma_lsta=False``.

    Args: as :class:`LocalMultimodalAdapter`.
    """
