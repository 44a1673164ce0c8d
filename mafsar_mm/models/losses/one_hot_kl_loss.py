"""MA-FSAR's text losses L_S2T and L_Q2T: ActionCLIP's KL divergence to a
sharpened one-hot target (docs/method.md, "Choices and where they are
set")."""
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class OneHotKLLoss(nn.Module):
    """KL divergence between ``softmax(logits)`` and the sharpened one-hot
    target ``softmax(target_scale * onehot(label))``, batch mean.

    The L_S2T / L_Q2T boxes of MA-FSAR's Figure 2 (the paper says KL; the
    form is ActionCLIP's ``KLLoss``, Wang et al., "ActionCLIP", 2021,
    github.com/sallymmx/ActionCLIP, read and rewritten here). Used by
    :class:`~mafsar_mm.models.heads.FewShotHead` as ``text_loss``;
    MMAction2's ``CrossEntropyLoss`` is the other choice. The interface is
    that of MMAction2's ``BaseWeightedLoss`` (``loss_weight``, the loss
    times it); it is not subclassed because importing
    ``mmaction.models`` when the package is imported would load all of
    MMAction2's models (and print mmcv-lite's warning in every tool).

    Args:
        target_scale (float): Sharpness of the target. Defaults to 10.0
            (ActionCLIP).
        loss_weight (float): Multiplies the loss. Defaults to 1.0.
    """

    def __init__(self,
                 target_scale: float = 10.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.target_scale = target_scale

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        """The weighted loss.

        Args:
            logits (Tensor): ``[B, C]`` class logits.
            labels (Tensor): ``[B]`` class indices in ``[0, C)``.

        Returns:
            Tensor: The scalar loss.
        """
        onehot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
        target = F.softmax(self.target_scale * onehot, dim=1)
        loss = F.kl_div(
            F.log_softmax(logits, dim=1), target, reduction='batchmean')
        return loss * self.loss_weight
