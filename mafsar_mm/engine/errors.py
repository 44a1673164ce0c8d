"""Errors caused by inputs, not by bugs: the tools print their message
(which says what to fix) without a stack trace (see
:mod:`mafsar_mm.utils.errors`)."""
from mafsar_mm.utils.errors import USER_ERROR_TYPES

#: Exception types the tools report as one ``error: ...`` line (exit code
#: 1): every :class:`~mafsar_mm.utils.errors.UserError` (bad videos and
#: inputs, missing CLIP weights, unusable checkpoints, a busy work dir)
#: and file-system errors (missing files, read-only or full disks).
USER_ERRORS = USER_ERROR_TYPES
