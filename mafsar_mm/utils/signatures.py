"""The keyword arguments a class or function takes, read from its
signature (standard library only).

A constructor's ``**kwargs`` that it only passes on to its parent
(``super().__init__(..., **kwargs)``, checked on its source with
:mod:`ast`) adds the parent's arguments; any other ``**kwargs`` (used in
the body, or forwarded elsewhere) makes every name acceptable, so a name
is never refused that the class might take.
"""
import ast
import inspect
import textwrap
from typing import Any, Callable, Iterable, Optional, Set


def forwards_to_super(func: Callable, kwargs_name: str) -> bool:
    """Whether ``func`` uses its ``**kwargs_name`` only as
    ``super().__init__(..., **kwargs_name)``."""
    try:
        source = textwrap.dedent(inspect.getsource(inspect.unwrap(func)))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return False
    uses = forwarded = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == kwargs_name:
            uses += 1
        elif (isinstance(node, ast.Call)
              and isinstance(node.func, ast.Attribute)
              and node.func.attr == '__init__'
              and isinstance(node.func.value, ast.Call)
              and isinstance(node.func.value.func, ast.Name)
              and node.func.value.func.id == 'super'):
            forwarded += sum(
                1 for kw in node.keywords
                if kw.arg is None and isinstance(kw.value, ast.Name)
                and kw.value.id == kwargs_name)
    return uses > 0 and uses == forwarded


def _named(params: Iterable[inspect.Parameter]) -> Set[str]:
    return {
        p.name
        for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def accepted_keys(obj: Any,
                  kwargs_of: Optional[dict] = None) -> Optional[Set[str]]:
    """The keyword arguments a registered class or function takes.

    Args:
        obj (type | callable): What a registry holds.
        kwargs_of (dict, optional): Class -> the names its ``**kwargs``
            accepts, for classes that pass them elsewhere than to their
            parent. Defaults to None.

    Returns:
        set[str] | None: The names; None when any name is accepted (a
        ``**kwargs`` not only passed on to the parent class) or the
        signature cannot be read.
    """
    if not inspect.isclass(obj):
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            return None
        if any(p.kind is p.VAR_KEYWORD for p in params):
            return None
        return _named(params)
    names: Set[str] = set()
    for klass in obj.__mro__:
        init = vars(klass).get('__init__')
        if init is None:
            continue
        if klass is object:
            return names
        try:
            params = list(inspect.signature(init).parameters.values())[1:]
        except (TypeError, ValueError):
            return None
        names |= _named(params)
        var = [p.name for p in params if p.kind is p.VAR_KEYWORD]
        if not var:
            return names
        if kwargs_of and klass in kwargs_of:
            return names | set(kwargs_of[klass])
        if not forwards_to_super(init, var[0]):
            return None
    return names
