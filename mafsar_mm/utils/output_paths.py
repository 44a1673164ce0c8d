"""Check a tool's output paths before any work starts.

A tool that writes a result file (``tools/test.py --dump-metrics``,
``--dump``, ``tools/demo/fewshot_demo.py --out``) must never replace a
file the user owns by mistake: the checkpoint or config it reads, or any
existing checkpoint. And a folder that cannot be made should stop the tool
at start, not after an hour of testing.
"""
import os
import os.path as osp
from typing import Dict, Optional

from .errors import UserError

#: endings of files never overwritten by a result file
PROTECTED_SUFFIXES = ('.pth', '.pt', '.ckpt', '.safetensors', '.py')


def check_output_path(path: str, option: str,
                      inputs: Optional[Dict[str, str]] = None) -> str:
    """Refuse an output path that would destroy an input or a checkpoint,
    and make its folder.

    Args:
        path (str): The output file.
        option (str): The option that named it (for the message), e.g.
            ``'--dump-metrics'``.
        inputs (dict, optional): What the tool reads, ``{role: path}``
            (e.g. ``{'checkpoint': 'ckpt.pth'}``); the output may be none
            of them, compared after resolving links and relative paths.

    Returns:
        str: ``path`` unchanged.

    Raises:
        UserError: The output is one of ``inputs``, an existing file
            ending with one of :data:`PROTECTED_SUFFIXES`, an existing
            folder, or its folder cannot be made.
    """
    real = osp.realpath(path)
    for role, source in (inputs or {}).items():
        if source and osp.realpath(source) == real:
            raise UserError(
                f'{option} {path} is the {role} this command reads; '
                'writing there would destroy it: choose another file.')
    if osp.isdir(real):
        raise UserError(f'{option} {path} is a folder; name a file.')
    if osp.exists(real) and real.endswith(PROTECTED_SUFFIXES):
        raise UserError(
            f'{option} {path} is an existing '
            f'{osp.splitext(real)[1]} file, which a result file never '
            'replaces: choose another file name.')
    folder = osp.dirname(real)
    existing = folder
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        raise UserError(f'{option} {path}: cannot make its folder {folder}: '
                        f'{existing} is a file.')
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise UserError(
            f'{option} {path}: cannot make its folder {folder} '
            f'({err.strerror}).') from err
    return path
