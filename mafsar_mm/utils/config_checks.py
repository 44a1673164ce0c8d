"""Check a config's types and keys before anything is built.

MMEngine builds the parts of a run from their config dicts at different
times: the model and the hooks when the ``Runner`` is made, the data
loaders, loops, evaluators, optimizer wrapper and schedulers in
``Runner.train()``/``test()``, and some options only when they are used
(``CheckpointHook`` passes its unknown keys to ``Runner.save_checkpoint``
at the first save, which then fails with a ``TypeError``). A misspelt
type or key therefore ends in a stack trace, sometimes hours into a run.

:func:`check_config` walks the config first and raises an
:class:`~mafsar_mm.utils.errors.InputError` (one ``error:`` line in the
tools) at the first wrong entry, naming its full key path (as
``--cfg-options`` spells it) and the closest valid names:

- a ``type`` that no registry of the config's scope holds;
- a key that the registered class (or function) does not take, read from
  its constructor's signature (``inspect.signature``). A ``**kwargs``
  that the constructor only passes on to ``super().__init__`` (checked on
  its source with ``ast``) adds the parent's options; any other
  ``**kwargs`` accepts every key
  (:func:`mafsar_mm.utils.signatures.accepted_keys`). ``CheckpointHook``
  passes its ``**kwargs`` to ``Runner.save_checkpoint``, which the hook
  already gives all its arguments: it takes no other key. The arguments
  MMEngine's ``Runner`` passes itself (``runner``, ``dataloader``,
  ``optimizer``, ...) are not listed as options.

It only reads the config and the registries, importing a registry's
modules (as building would) only for a name not registered yet, and
checks the data pipelines last (MMAction2's transforms take seconds to
import): a wrong key of the model, a loop or a hook is found in
milliseconds, far below the time building the model takes.
"""
import difflib
from typing import Any, Iterable, Optional, Set

from mmengine.config import Config

from .errors import InputError
from .registry_names import (BUILD_KEYS, lookup, not_registered,
                             scope_registry, unknown_key)
from .signatures import accepted_keys

#: What ``CheckpointHook`` passes to ``Runner.save_checkpoint`` itself
#: (mmengine/hooks/checkpoint_hook.py, ``_save_checkpoint_with_step``);
#: its own ``**kwargs`` go there too, so only other parameters of the
#: runner's ``save_checkpoint`` are options of the hook.
_SAVE_ARGS_OF_HOOK = frozenset({
    'self', 'out_dir', 'filename', 'file_client_args', 'save_optimizer',
    'save_param_scheduler', 'meta', 'by_epoch', 'backend_args'
})
#: ``paramwise_cfg`` keys of ``DefaultOptimWrapperConstructor``
#: (mmengine/optim/optimizer/default_constructor.py, ``add_params``).
_PARAMWISE_KEYS = frozenset({
    'custom_keys', 'bias_lr_mult', 'bias_decay_mult', 'norm_decay_mult',
    'dwconv_decay_mult', 'flat_decay_mult', 'bypass_duplicate',
    'dcn_offset_lr_mult'
})
#: Keys of the registered parts of a model that are built from another
#: registry (MMEngine's weight initialisers) and are not checked here.
_NOT_MODELS = frozenset({'init_cfg'})


def check_keys(keys: Iterable, path: str, options: Optional[Set[str]],
               owner: str) -> None:
    """Raise :class:`InputError` for the first of ``keys`` (those of a
    config dict at ``path``) not in ``options`` (None: any key).

    Args:
        keys (Iterable): The keys given.
        path (str): The dict's key path, e.g. ``'model.head'``.
        options (set[str] | None): The accepted keys.
        owner (str): What takes them, for the message.
    """
    if options is None:
        return
    for key in keys:
        if key not in options:
            raise unknown_key(path, str(key), owner, options)


class _Checker:
    """Walks the parts of one config (see :func:`check_config`)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.scope = cfg.get('default_scope', None)
        self.kwargs_of = self._kwargs_of()
        self.later: Optional[list] = []

    def reg(self, name: str):
        return scope_registry(self.scope, name)

    def part(self,
             cfg: Any,
             path: str,
             registry: str,
             provided: Iterable[str] = (),
             extra: Iterable[str] = (),
             default_type: Any = None,
             parent: Any = None) -> Any:
        """Check one ``dict(type=...)`` and its typed children; return the
        registered object (None when ``cfg`` is not a dict)."""
        if not isinstance(cfg, dict):
            return None
        registry_obj = self.reg(registry)
        key = path.rsplit('.', 1)[-1]
        name = cfg.get('type', default_type)
        if name is None:
            raise InputError(
                f'{path} has no type (a name of the '
                f'{registry_obj.name} registry, e.g. {path}.type=...)')
        if isinstance(name, str):
            obj = lookup(registry_obj, name, cfg.get('_scope_'))
            if obj is None:
                raise not_registered(f'{path}.type', name, registry_obj, key,
                                     parent)
        elif callable(name):
            obj = name
        else:
            raise InputError(f'{path}.type must be a name of the '
                             f'{registry_obj.name} registry, not {name!r}')
        provided = set(provided)
        options = accepted_keys(obj, self.kwargs_of)
        if options is not None:
            given = [k for k in cfg if k not in provided]
            allowed = (options - provided) | BUILD_KEYS | set(extra)
            check_keys(given, path, allowed, getattr(obj, '__name__',
                                                     str(obj)))
        for child, value in cfg.items():
            child_registry = self._childscope_registry(registry, child)
            if child_registry == 'TRANSFORMS' and self.later is not None:
                # MMAction2's transforms import scipy.stats (seconds):
                # after everything else
                self.later.append((value, f'{path}.{child}', obj))
            elif child_registry is not None:
                self.typed(value, f'{path}.{child}', child_registry, obj)
        return obj

    def typed(self,
              value: Any,
              path: str,
              registry: str,
              parent: Any = None) -> None:
        """Check a typed dict or each typed dict of a list."""
        if isinstance(value, dict) and 'type' in value:
            self.part(value, path, registry, parent=parent)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, dict) and 'type' in item:
                    self.part(item, f'{path}.{i}', registry, parent=parent)

    @staticmethod
    def _childscope_registry(registry: str, key: str) -> Optional[str]:
        """The registry the parts under ``key`` of a ``registry`` part
        are built from (None: not checked)."""
        if registry == 'MODELS':
            return None if key in _NOT_MODELS else 'MODELS'
        return {
            ('DATASETS', 'pipeline'): 'TRANSFORMS',
            ('DATASETS', 'dataset'): 'DATASETS',
            ('DATASETS', 'datasets'): 'DATASETS',
            ('TRANSFORMS', 'transforms'): 'TRANSFORMS',
            ('VISUALIZERS', 'vis_backends'): 'VISBACKENDS',
            ('EVALUATOR', 'metrics'): 'METRICS',
        }.get((registry, key))

    def _kwargs_of(self) -> dict:
        """``CheckpointHook``'s ``**kwargs`` go to the runner's
        ``save_checkpoint``; ``FewShotHead``'s only catch the names of
        arguments that moved (to say where), so they accept none."""
        from mmengine.hooks import CheckpointHook

        from mafsar_mm.models.heads.few_shot_head import FewShotHead
        kwargs_of = {FewShotHead: set()}
        runner = self.cfg.get('runner_type', 'Runner')
        if isinstance(runner, str):
            runner = lookup(self.reg('RUNNERS'), runner, None)
        save = accepted_keys(getattr(runner, 'save_checkpoint', None))
        if save is not None:
            kwargs_of[CheckpointHook] = save - _SAVE_ARGS_OF_HOOK
        return kwargs_of

    # the parts of a run, as MMEngine's Runner builds them

    def dataloader(self, name: str) -> None:
        loader = self.cfg.get(name, None)
        if not isinstance(loader, dict):
            return
        from torch.utils.data import DataLoader

        # Runner.build_dataloader also reads these two
        options = accepted_keys(DataLoader) | {
            'num_batch_per_epoch', 'disable_subprocess_warning'
        }
        check_keys(loader, name, options, 'DataLoader')
        self.part(loader.get('dataset'), f'{name}.dataset', 'DATASETS')
        for key, provided in (('sampler', ('dataset', 'seed')),
                              ('batch_sampler', ('sampler', 'batch_size'))):
            self.part(
                loader.get(key), f'{name}.{key}', 'DATA_SAMPLERS', provided)

    def loop(self, name: str, default: str, extra=()) -> None:
        loop = self.cfg.get(name, None)
        if not isinstance(loop, dict):
            return
        if name == 'train_cfg' and 'type' not in loop:
            default = ('EpochBasedTrainLoop'
                       if loop.get('by_epoch', True) else 'IterBasedTrainLoop')
            extra = ('by_epoch', )
        self.part(
            loop,
            name,
            'LOOPS', ('runner', 'dataloader', 'evaluator'),
            extra,
            default_type=default)

    def evaluator(self, name: str) -> None:
        evaluator = self.cfg.get(name, None)
        if isinstance(evaluator, dict) and 'metrics' in evaluator:
            self.part(evaluator, name, 'EVALUATOR', default_type='Evaluator')
        elif isinstance(evaluator, dict):
            self.part(evaluator, name, 'METRICS')
        elif isinstance(evaluator, (list, tuple)):
            for i, metric in enumerate(evaluator):
                self.part(metric, f'{name}.{i}', 'METRICS')

    def hooks(self) -> None:
        hooks = self.cfg.get('default_hooks', None) or {}
        for key, hook in hooks.items():
            if isinstance(hook, dict) and 'type' not in hook:
                # a misspelt name (`default_hooks.checkpint.interval=3`)
                # adds an entry without a type
                named = [
                    k for k, v in hooks.items()
                    if k != key and (not isinstance(v, dict) or 'type' in v)
                ]
                close = difflib.get_close_matches(key, named, n=1)
                if close:
                    raise InputError(
                        f'default_hooks.{key} has no type; did you mean '
                        f'default_hooks.{close[0]}?')
            # Runner.register_hook reads `priority` itself
            self.part(
                hook, f'default_hooks.{key}', 'HOOKS', extra=('priority', ))
        for i, hook in enumerate(self.cfg.get('custom_hooks', None) or []):
            self.part(hook, f'custom_hooks.{i}', 'HOOKS', extra=('priority', ))

    def optim_wrapper(self) -> None:
        wrapper = self.cfg.get('optim_wrapper', None)
        if not isinstance(wrapper, dict) or not ('optimizer' in wrapper
                                                 or 'constructor' in wrapper):
            return  # none, a built one, or several (a custom constructor)
        constructor = wrapper.get('constructor',
                                  'DefaultOptimWrapperConstructor')
        registry = self.reg('OPTIM_WRAPPER_CONSTRUCTORS')
        if (isinstance(constructor, str)
                and lookup(registry, constructor, None) is None):
            raise not_registered('optim_wrapper.constructor', constructor,
                                 registry, 'constructor', None)
        if constructor != 'DefaultOptimWrapperConstructor':
            return  # it may read the other keys its own way
        self.part(
            wrapper,
            'optim_wrapper',
            'OPTIM_WRAPPERS',
            extra=('constructor', 'paramwise_cfg'),
            default_type='OptimWrapper')
        # the constructor passes the parameters as the first argument
        self.part(
            wrapper.get('optimizer'), 'optim_wrapper.optimizer', 'OPTIMIZERS',
            ('params', 'model_params'))
        paramwise = wrapper.get('paramwise_cfg', None)
        if isinstance(paramwise, dict):
            check_keys(paramwise, 'optim_wrapper.paramwise_cfg',
                       set(_PARAMWISE_KEYS), 'DefaultOptimWrapperConstructor')

    def schedulers(self) -> None:
        schedulers = self.cfg.get('param_scheduler', None)
        if isinstance(schedulers, dict) and 'type' not in schedulers:
            groups = [(f'param_scheduler.{k}', v)
                      for k, v in schedulers.items()]
        else:
            groups = [('param_scheduler', schedulers)]
        for path, group in groups:
            items = ([(path, group)] if isinstance(group, dict) else
                     [(f'{path}.{i}', s) for i, s in enumerate(group or [])])
            for item_path, scheduler in items:
                self.part(scheduler, item_path, 'PARAM_SCHEDULERS',
                          ('optimizer', 'epoch_length'),
                          ('convert_to_iter_based', ))


def check_config(cfg: Config) -> None:
    """Check the types and keys of every part of a run's config.

    Checks the model, the train/val/test data loaders (loader options,
    dataset, pipeline, sampler), the loops (``train_cfg``, ``val_cfg``,
    ``test_cfg``), the evaluators, the default and custom hooks (with
    ``CheckpointHook``'s options of ``Runner.save_checkpoint``), the
    optimizer wrapper (wrapper, optimizer, ``paramwise_cfg``), the
    parameter schedulers, the visualizer, the log processor, the model
    wrapper and ``randomness``. Entries set to None are skipped.

    Args:
        cfg (Config): The merged config (after ``--cfg-options``).

    Raises:
        InputError: At the first unknown type or key, in one line, e.g.
            ``model.head.alph is not an option of FewShotHead; did you
            mean alpha?``.
    """
    check = _Checker(cfg)
    check.part(cfg.get('model', None), 'model', 'MODELS')
    for split in ('train', 'val', 'test'):
        check.dataloader(f'{split}_dataloader')
    check.loop('train_cfg', None)
    check.loop('val_cfg', 'ValLoop')
    check.loop('test_cfg', 'TestLoop')
    check.evaluator('val_evaluator')
    check.evaluator('test_evaluator')
    check.hooks()
    check.optim_wrapper()
    check.schedulers()
    check.part(
        cfg.get('visualizer', None), 'visualizer', 'VISUALIZERS',
        ('name', 'save_dir'))
    check.part(
        cfg.get('log_processor', None),
        'log_processor',
        'LOG_PROCESSORS',
        default_type='LogProcessor')
    check.part(
        cfg.get('model_wrapper_cfg', None),
        'model_wrapper_cfg',
        'MODEL_WRAPPERS', ('module', ),
        default_type='MMDistributedDataParallel')
    randomness = cfg.get('randomness', None)
    if isinstance(randomness, dict):
        from mmengine.runner import Runner
        check_keys(randomness, 'randomness',
                   accepted_keys(Runner.set_randomness) - {'self'},
                   'Runner.set_randomness')
    later, check.later = check.later, None
    for pipeline, path, dataset in later:
        check.typed(pipeline, path, 'TRANSFORMS', dataset)
