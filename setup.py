"""Install ``mafsar_mm``.

``pip install -e .`` links ``configs/``, ``tools/``, the split lists
``data/splits/`` and the model zoo index ``model-index.yml`` into
``mafsar_mm/.mim`` so that ``mim train mafsar_mm <config>`` and ``mim
search mafsar_mm`` find them, as MMAction2's ``setup.py`` does; a regular
install copies them into the package.

mim finds a package's tools through ``pkg_resources``: the first
distribution of that name along ``sys.path``, whose location + package
name must hold ``.mim/tools/train.py`` (``mim/utils/utils.py``,
``get_installed_path``; ``mim/commands/train.py``). A default PEP 660
editable install keeps its metadata in ``site-packages`` and imports the
package through an import hook, so mim looks for
``site-packages/mafsar_mm/.mim/tools/train.py``, which does not exist.
Editable installs of this project therefore use :class:`EditableWheel`:
one ``.pth`` puts the project root on ``sys.path`` just before
``site-packages``, where ``pkg_resources`` finds ``mafsar_mm.egg-info``
(written to the project root by the build) first, as with the legacy
``setup.py develop`` or ``PYTHONPATH=$PWD``.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

REPO = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', osp.join('data', 'splits'),
             'model-index.yml')


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
    """Put ``configs``, ``tools``, ``data/splits`` and ``model-index.yml``
    under ``mafsar_mm/.mim`` for mim and for the prepare tool's default.

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
        os.makedirs(osp.dirname(dst), exist_ok=True)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, osp.dirname(dst)), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


class _ProjectRootPth:
    """Editable-install strategy of :class:`EditableWheel`: a ``.pth``
    that inserts the project root before the first ``*-packages`` entry of
    ``sys.path`` (implements setuptools' ``EditableStrategy`` protocol,
    ``setuptools/command/editable_wheel.py``)."""

    def __init__(self, name: str, root: str) -> None:
        self.name = name
        self.root = root

    def __call__(self, wheel, files, mapping) -> None:
        root = repr(self.root)
        # a .pth line starting with 'import' is executed by site.py
        line = (f'import sys; {root} in sys.path or sys.path.insert(next('
                "(i for i, p in enumerate(sys.path) if p.endswith("
                f"'-packages')), len(sys.path)), {root})\n")
        wheel.writestr(f'__editable__.{self.name}.pth', line.encode())

    def __enter__(self) -> '_ProjectRootPth':
        return self

    def __exit__(self, *exc) -> None:
        pass


def editable_wheel_command():
    """setuptools' ``editable_wheel`` command using
    :class:`_ProjectRootPth`, or None with a setuptools without PEP 660."""
    try:
        from setuptools.command.editable_wheel import editable_wheel
    except ImportError:  # setuptools < 64: `setup.py develop` is used
        return None

    class EditableWheel(editable_wheel):

        def run(self) -> None:
            super().run()
            # the metadata pkg_resources (hence mim) finds at the project
            # root; the PEP 660 build keeps its own in a temporary folder
            egg_info = self.reinitialize_command('egg_info')
            egg_info.egg_base = REPO
            self.run_command('egg_info')

        def _select_strategy(self, name, tag, build_lib):
            return _ProjectRootPth(name, REPO)

    return EditableWheel


def get_version() -> str:
    ns = {}
    with open(osp.join(REPO, 'mafsar_mm', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


if __name__ == '__main__':
    link_mim_files()
    cmdclass = {}
    if editable_wheel_command() is not None:
        cmdclass['editable_wheel'] = editable_wheel_command()
    setup(
        name='mafsar_mm',
        version=get_version(),
        description='Few-shot action recognition with multimodal adaptation '
        'of CLIP (MA-FSAR) and FSAR baselines for MMAction2',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={
            'mafsar_mm':
            ['.mim/configs/**/*', '.mim/tools/**/*', '.mim/data/splits/**/*',
             '.mim/model-index.yml']
        },
        python_requires='>=3.8',
        install_requires=read_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': read_requirements('requirements/tests.txt'),
            'tensorboard': read_requirements('requirements/optional.txt')
        },
        zip_safe=False,
        cmdclass=cmdclass)
