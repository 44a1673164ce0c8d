from .adapter import Adapter

__all__ = ['Adapter']
