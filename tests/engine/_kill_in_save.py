"""Test helper: ``kill -9`` a training run in the middle of a checkpoint
save. Imported through a config's ``custom_imports``; when
``MAFSAR_TEST_KILL_AT`` names a file (e.g. ``iter_4.pth``), the process
sends itself SIGKILL at the rename that would put that file in place,
i.e. after the temporary file is complete and before anything else of
the save happened (the worst moment for the old checkpoints)."""
import os
import os.path as osp
import signal

_replace = os.replace


def _replace_or_die(src, dst, *args, **kwargs):
    if osp.basename(str(dst)) == os.environ.get('MAFSAR_TEST_KILL_AT'):
        os.kill(os.getpid(), signal.SIGKILL)
    return _replace(src, dst, *args, **kwargs)


os.replace = _replace_or_die
