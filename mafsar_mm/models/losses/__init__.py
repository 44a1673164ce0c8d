from .one_hot_kl_loss import OneHotKLLoss

__all__ = ['OneHotKLLoss']
