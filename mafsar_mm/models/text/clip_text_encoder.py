"""Frozen CLIP text encoder for class names, with a per-name cache.

Follows ``open_clip.CLIP.encode_text`` (open_clip 3.3, ``model.py``) and the
"a photo of {}" prompt of CLIP-FSAR
(github.com/alibaba-mmai-research/CLIP-FSAR).
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from open_clip.transformer import text_global_pool
from torch import Tensor, nn

from ..clip import build_clip_part, get_tokenizer


@MODELS.register_module()
class CLIPTextEncoder(BaseModule):
    """Encode class names with CLIP's frozen text tower.

    Only the text parts of the CLIP model are kept, under open_clip's names
    (``token_embedding``, ``positional_embedding``, ``transformer``,
    ``ln_final``, ``text_projection`` and the non-persistent causal
    ``attn_mask`` buffer; models with a separate text tower keep ``text``).
    Everything is frozen and runs under ``torch.no_grad``.

    The cache maps each prompt to a CPU tensor. It is not part of the
    ``state_dict`` and is cleared whenever weights are loaded
    (``load_state_dict``) or the module is moved/cast (``.to()``,
    ``.half()``), so a cached result always equals a fresh one.

    Args:
        clip (dict): Kwargs of
            :func:`mafsar_mm.models.clip.build_open_clip`. Built with
            :func:`~mafsar_mm.models.clip.build_clip_part`: in a
            recognizer whose backbone names the same weights, the text
            half of the backbone's CLIP (built and loaded once).
        template (str): Prompt with one ``{}`` for the class name.
            Defaults to ``'a photo of {}'``.
        cache (bool): Cache the feature of each prompt. Defaults to True.
        fixed_class_names (Sequence[str], optional): Encode these class
            names once, at build time, and free the text tower: the
            encoder then only answers for them (a fixed label set, e.g. a
            deployed model or a memory benchmark) and has no weights to
            load. Defaults to None (keep the tower).
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 clip: dict,
                 template: str = 'a photo of {}',
                 cache: bool = True,
                 fixed_class_names: Optional[Sequence[str]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if '{}' not in template:
            raise ValueError(f"template must contain '{{}}', got "
                             f'{template!r}')
        self.template = template
        self.use_cache = cache
        self._cache: Dict[str, Tensor] = {}
        model = build_clip_part(clip, 'text')  # shared: the text half
        self.output_dim = model.visual.output_dim
        if hasattr(model, 'text'):  # CustomTextCLIP: one text module
            self.text = model.text
            context_length = getattr(model.text, 'context_length', None)
        else:  # CLIP: the text tower is flattened into the model
            self.text = None
            self.token_embedding = model.token_embedding
            self.positional_embedding = model.positional_embedding
            self.transformer = model.transformer
            self.ln_final = model.ln_final
            self.text_projection = model.text_projection
            self.text_pool_type = model.text_pool_type
            self.text_eos_id = getattr(model, 'text_eos_id', None)
            self.register_buffer('attn_mask', model.attn_mask,
                                 persistent=False)
            context_length = model.context_length
        del model
        model_name = clip.get('model_name')
        self.tokenizer = get_tokenizer(
            model_name, None if model_name else context_length)
        for param in self.parameters():
            param.requires_grad_(False)
        self.eval()
        self.fixed_class_names: Optional[List[str]] = None
        if fixed_class_names is not None:
            self._fix_class_names(list(fixed_class_names))

    def _fix_class_names(self, class_names: List[str]) -> None:
        """Encode ``class_names``, keep their features as a buffer (it
        follows ``.to()``) and drop the text tower's modules."""
        if not class_names:
            raise ValueError('fixed_class_names is empty')
        names = list(dict.fromkeys(class_names))
        feats = torch.cat([
            self._encode_prompt(self.template.format(n)) for n in names
        ])
        for name in ('text', 'token_embedding', 'positional_embedding',
                     'transformer', 'ln_final', 'text_projection',
                     'attn_mask'):
            if hasattr(self, name):
                delattr(self, name)
        self.register_buffer('fixed_text', feats, persistent=False)
        self.fixed_class_names = names

    def train(self, mode: bool = True) -> 'CLIPTextEncoder':
        """The encoder is frozen: always stays in eval mode."""
        return super().train(False)

    def clear_cache(self) -> None:
        """Drop all cached text features."""
        self._cache.clear()

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        """Weights change: invalidate the cache, then load."""
        self.clear_cache()
        super()._load_from_state_dict(*args, **kwargs)

    def _apply(self, fn, *args, **kwargs):
        """Device/dtype changes: invalidate the cache."""
        self.clear_cache()
        return super()._apply(fn, *args, **kwargs)

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        if self.fixed_class_names is not None:
            return self.fixed_text.device
        return next(self.parameters()).device

    @torch.no_grad()
    def encode_tokens(self, tokens: Tensor) -> Tensor:
        """Text features of token ids, as ``CLIP.encode_text`` (not
        normalised).

        Args:
            tokens (Tensor): ``[B, L]`` token ids.

        Returns:
            Tensor: ``[B, D']``.
        """
        tokens = tokens.to(self.device)
        if self.text is not None:
            return self.text(tokens)
        cast_dtype = self.transformer.get_cast_dtype()
        x = self.token_embedding(tokens).to(cast_dtype)  # [B, L, W]
        x = x + self.positional_embedding.to(cast_dtype)
        x = self.transformer(x, attn_mask=self.attn_mask)
        x = self.ln_final(x)
        # end-of-text token ('argmax' pool for CLIP): [B, L, W] -> [B, W]
        x = text_global_pool(
            x, tokens, self.text_pool_type, eos_token_id=self.text_eos_id)
        if isinstance(self.text_projection, nn.Linear):
            x = self.text_projection(x)
        elif self.text_projection is not None:
            x = x @ self.text_projection  # [B, W] -> [B, D']
        return x

    @torch.no_grad()
    def forward(self, class_names: Sequence[str]) -> Tensor:
        """Encode class names through the prompt template.

        Args:
            class_names (Sequence[str]): N class names.

        Returns:
            Tensor: ``[N, D']`` text features (not normalised) on the
            module's device.
        """
        if isinstance(class_names, str):
            class_names = [class_names]
        if self.fixed_class_names is not None:
            return self._fixed(class_names)
        prompts = [self.template.format(name) for name in class_names]
        # One prompt per pass: matmul results change in the last bits with
        # the batch size, so a batch would make a name's feature depend on
        # the other names encoded with it (and, through the cache, on the
        # run's history). Single passes keep cached, uncached and resumed
        # runs bit-identical.
        if not self.use_cache:
            return torch.cat([self._encode_prompt(p) for p in prompts])
        missing: List[str] = list(
            dict.fromkeys(p for p in prompts if p not in self._cache))
        for prompt in missing:
            self._cache[prompt] = self._encode_prompt(prompt)[0].cpu()
        return torch.stack([self._cache[p] for p in prompts]).to(self.device)

    def _fixed(self, class_names: Sequence[str]) -> Tensor:
        """Features of names among ``fixed_class_names``."""
        index = {n: i for i, n in enumerate(self.fixed_class_names)}
        unknown = [n for n in class_names if n not in index]
        if unknown:
            raise ValueError(
                f'Class names {unknown} are not among the '
                f'{len(index)} fixed_class_names this text encoder was '
                'built with (its text tower is freed).')
        return self.fixed_text[[index[n] for n in class_names]]

    def _encode_prompt(self, prompt: str) -> Tensor:
        """``[1, D']`` feature of one prompt, in the weights' precision
        even under ``autocast`` (a mixed-precision evaluation must not
        leave low-precision features in the cache for later runs)."""
        with torch.autocast(self.device.type, enabled=False):
            return self.encode_tokens(self.tokenizer([prompt]))
