"""What differs between two training configs, read without executing
them: the config a checkpoint stores (``meta['cfg']``) and the current
one (:class:`mafsar_mm.engine.ResumeConfigCheckHook` warns with it)."""
import ast
from typing import Any, Dict, List, Tuple

#: Config sections that define what a run learns; a resumed run whose
#: values differ here does not continue the checkpoint's run. Left out on
#: purpose: work_dir, resume, load_from, launcher, log and visualiser
#: settings, hooks, evaluation, env_cfg, and ``randomness`` (MMEngine
#: itself warns about a different seed and keeps the checkpoint's).
COMPARED_SECTIONS = ('model', 'train_dataloader', 'train_cfg', 'optim_wrapper',
                     'param_scheduler', 'auto_scale_lr')

#: Keys (last part) that only change how data is loaded, not what is
#: learned.
IGNORED_KEYS = ('num_workers', 'persistent_workers', 'pin_memory',
                'prefetch_factor')

#: Dotted keys a resumed run may change: the loop's length and when it
#: validates (training longer is what resuming is often for).
IGNORED_PATHS = ('train_cfg.max_iters', 'train_cfg.max_epochs',
                 'train_cfg.val_interval', 'train_cfg.val_begin')

#: At most this many differences are listed (then "and N more").
MAX_LISTED = 12

_ABSENT = '<absent>'


def _literal(node: ast.AST) -> Any:
    """The value of a literal expression of ``Config.pretty_text``
    (constants, lists, tuples, dicts, ``dict(k=v)``, signed numbers).

    Raises:
        ValueError: For anything else (nothing is executed).
    """
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [_literal(e) for e in node.elts]
        return values if isinstance(node, ast.List) else tuple(values)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {
            _literal(k): _literal(v)
            for k, v in zip(node.keys, node.values)
        }
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == 'dict' and not node.args
            and all(kw.arg is not None for kw in node.keywords)):
        return {kw.arg: _literal(kw.value) for kw in node.keywords}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op,
                                                    (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    raise ValueError(f'not a literal: {ast.dump(node)[:60]}')


def parse_config_text(text: str) -> Dict[str, Any]:
    """The top-level ``name = value`` settings of a config's
    ``pretty_text`` (what MMEngine stores in ``meta['cfg']``), read
    without executing it (the text comes from a checkpoint file).
    Settings whose value is not a plain literal are left out.

    Args:
        text (str): Config source.

    Returns:
        dict: Setting name to value.

    Raises:
        SyntaxError: If ``text`` is not Python.
    """
    settings = {}
    for stmt in ast.parse(text).body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            continue
        try:
            settings[stmt.targets[0].id] = _literal(stmt.value)
        except ValueError:
            continue
    return settings


def _plain(value: Any) -> Any:
    """Config values as plain dicts and lists (tuples as lists)."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _short(value: Any, width: int = 40) -> str:
    text = repr(value) if value is not _ABSENT else _ABSENT
    return text if len(text) <= width else text[:width - 3] + '...'


def config_differences(old: Dict[str, Any],
                       new: Dict[str, Any]) -> List[Tuple[str, Any, Any]]:
    """The differing leaves of :data:`COMPARED_SECTIONS` of two configs.

    Args:
        old (dict): The checkpoint's config (plain values).
        new (dict): The current config.

    Returns:
        list[tuple[str, Any, Any]]: ``(dotted key, old, new)``, in key
        order; a side without the key has ``'<absent>'``.
    """
    found = []

    def walk(a, b, key):
        if key.rsplit('.', 1)[-1] in IGNORED_KEYS or key in IGNORED_PATHS:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                walk(a.get(k, _ABSENT), b.get(k, _ABSENT), f'{key}.{k}')
        elif (isinstance(a, list) and isinstance(b, list)
              and len(a) == len(b)):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f'{key}.{i}')
        elif a != b or type(a) is not type(b):
            found.append((key, a, b))

    for section in COMPARED_SECTIONS:
        walk(
            _plain(old.get(section, _ABSENT)),
            _plain(new.get(section, _ABSENT)), section)
    return found


def describe_differences(found: List[Tuple[str, Any, Any]]) -> str:
    """``'key old -> new, ...'`` (at most :data:`MAX_LISTED`)."""
    listed = ', '.join(f'{key} {_short(a)} -> {_short(b)}'
                       for key, a, b in found[:MAX_LISTED])
    more = len(found) - MAX_LISTED
    return listed + (f', and {more} more' if more > 0 else '')
