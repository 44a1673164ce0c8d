"""Registered names for the messages of :mod:`.config_checks`: the
registry of a config's scope, what a name resolves to, and the one-line
errors for an unknown type (closest names and the names of its kind) or
key (closest options)."""
import difflib
import importlib
import warnings
from typing import Any, Iterable, Optional, Set

from mafsar_mm.utils.errors import InputError

#: Keys every registry build reads itself (``mmengine.registry``).
BUILD_KEYS = frozenset({'type', '_scope_'})
#: The package folder of each kind of part, for the ``all:`` list of an
#: unknown type when the key does not name it (``model.type``).
_KIND_FOLDERS = {'model': 'recognizers', 'text_encoder': 'text'}
#: At most this many names are listed after ``all:``.
_MAX_LISTED = 30


def scope_registry(scope: Optional[str], name: str):
    """The registry ``name`` (e.g. ``'MODELS'``) of a scope's package
    (``<scope>.registry``), else MMEngine's."""
    if scope:
        try:
            return getattr(importlib.import_module(f'{scope}.registry'), name)
        except (ImportError, AttributeError):
            pass
    return getattr(importlib.import_module('mmengine.registry'), name)


def registered_names(registry) -> dict:
    """Name -> object of a registry and its parents (the child's first).

    Only for an error message: the import warnings of the registries'
    modules (mmcv-lite's missing ops) would only bury the one line.
    """
    names: dict = {}
    while registry is not None:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            registry.import_from_location()
        for key, obj in registry.module_dict.items():
            names.setdefault(key, obj)
        registry = registry.parent
    return names


def lookup(registry, name: str, scope: Optional[str]) -> Any:
    """What ``registry.get`` returns for ``name`` (None if nothing).

    A name already registered (ours, imported with ``mafsar_mm``) is
    found without importing the registry's modules (MMAction2's datasets
    take seconds); the Runner imports them when it builds.
    """
    if scope and '.' not in name:
        name = f'{scope}.{name}'
    if '.' not in name:
        node = registry
        while node is not None:  # the order of Registry.get
            if name in node.module_dict:
                return node.module_dict[name]
            node = node.parent
    try:
        with warnings.catch_warnings():  # as in _registered
            warnings.simplefilter('ignore')
            return registry.get(name)
    except Exception:  # e.g. RuntimeError('Failed to get ...')
        return None


def _listing(names: Iterable[str]) -> str:
    return ', '.join(sorted(names))


def _kind_names(registered: dict, key: str, parent: Any) -> list:
    """The registered names of the kind a key names (``matcher`` ->
    the classes of a ``matchers`` package), those of the parent's package
    when it has any."""
    folder = _KIND_FOLDERS.get(key, key)
    folders = {folder, folder + 's', folder + 'es'}
    kind = {
        name: obj
        for name, obj in registered.items()
        if folders & set(getattr(obj, '__module__', '').split('.'))
    }
    top = getattr(parent, '__module__', '').split('.')[0]
    own = [n for n, o in kind.items() if o.__module__.split('.')[0] == top]
    return own or list(kind)


def not_registered(label: str, name: str, registry, key: str,
                   parent: Any) -> InputError:
    """``label='name' is not registered; closest: ... (all: ...)``."""
    registered = registered_names(registry)
    real = name.rsplit('.', 1)[-1]
    line = f'{label}={name!r} is not registered'
    close = difflib.get_close_matches(real, list(registered), n=3)
    if close:
        line += f'; closest: {", ".join(close)}'
    kind = []
    if registry.name == 'model':
        kind = _kind_names(registered, key, parent)
    kind = kind or list(registered)
    if len(kind) <= _MAX_LISTED:
        line += f' (all: {_listing(kind)})'
    else:
        line += (f' ({len(registered)} names in the {registry.name} '
                 'registry)')
    return InputError(line)


def unknown_key(path: str, key: str, owner: str,
                options: Set[str]) -> InputError:
    line = f'{path}.{key} is not an option of {owner}'
    close = difflib.get_close_matches(key, list(options), n=3)
    if close:
        guess = ' or '.join(close) if len(close) < 3 else (
            f'{close[0]}, {close[1]} or {close[2]}')
        line += f'; did you mean {guess}?'
    elif options - BUILD_KEYS:
        line += f'; its options: {_listing(options - BUILD_KEYS)}'
    else:
        line += ', which takes no options'
    return InputError(line)
