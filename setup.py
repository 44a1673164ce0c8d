"""Install ``mafsar_mm``.

``pip install -e .`` links ``configs/`` and ``tools/`` into
``mafsar_mm/.mim`` so that ``mim train mafsar_mm <config>`` finds them,
as MMAction2's ``setup.py`` does; a regular install copies them.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

REPO = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools')


def read_requirements(path: str) -> list:
    """Read one requirement per line, following ``-r`` includes."""
    reqs = []
    with open(osp.join(REPO, path)) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                sub = osp.join(osp.dirname(path), line[3:].strip())
                reqs.extend(read_requirements(sub))
            else:
                reqs.append(line)
    return reqs


def link_mim_files() -> None:
    """Put ``configs`` and ``tools`` under ``mafsar_mm/.mim`` for mim.

    Editable installs (``develop`` or PEP 660 ``editable_wheel``) get
    relative symlinks so edits show up at once; wheel builds get copies.
    Written after the idea of MMAction2's ``add_mim_extension``.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return
    mim_dir = osp.join(REPO, 'mafsar_mm', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(REPO, name)
        dst = osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_dir), dst)
        else:
            shutil.copytree(src, dst)


def get_version() -> str:
    ns = {}
    with open(osp.join(REPO, 'mafsar_mm', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


if __name__ == '__main__':
    link_mim_files()
    setup(
        name='mafsar_mm',
        version=get_version(),
        description='Few-shot action recognition with multimodal adaptation '
        'of CLIP (MA-FSAR) and FSAR baselines for MMAction2',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={'mafsar_mm': ['.mim/configs/**/*', '.mim/tools/**/*']},
        python_requires='>=3.8',
        install_requires=read_requirements('requirements/runtime.txt'),
        extras_require={'tests': read_requirements('requirements/tests.txt')},
        zip_safe=False)
