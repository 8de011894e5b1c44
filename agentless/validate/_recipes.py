"""Environment recipes: how to build a repository's test environment, as data.

A ``Recipe`` names the Python version, the packages installed first, the requirement files read
from the source at the environment commit, text edits made before installing (SWE-bench's
``pre_install`` steps), the install command, the test command and the log parser. The registry
holds every SWE-bench Lite/Verified repository plus the dev sets' (facts from SWE-bench's
published per-version specs and from each project's own packaging); a v5 dataset row's
``eval_script`` overrides install and test command (see ``evalscript``); ``auto_recipe`` reads an
unknown repository's packaging files instead, and says what it guessed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

TestLabels = Literal["paths", "django"]

PYTEST = "pytest -rA"
DJANGO = "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
SYMPY = "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
SPHINX = "tox --current-env -epy39 -v --"
ASTROPY_OLD = "pytest -rA -vv -o console_output_style=classic --tb=no"

# Files whose change needs a new install (a patch touching them rebuilds the task's layer).
BUILD_INPUTS = re.compile(
    r"(^|/)(setup\.py|setup\.cfg|pyproject\.toml|MANIFEST\.in|meson\.build|CMakeLists\.txt)$"
    r"|\.(pyx|pxd|pxi|c|cc|cpp|cxx|h|hpp|f|f90)$"
)


@dataclass(frozen=True)
class Edit:
    """A text edit made in the source before installing, like ``sed -i 's/old/new/' path``:
    the first occurrence of ``old`` on each line becomes ``new``. With ``fallback``, the edit
    is made only when the previous one changed nothing."""

    path: str
    old: str
    new: str
    fallback: bool = False

    def apply(self, text: str) -> str:
        return "".join(
            line.replace(self.old, self.new, 1) for line in text.splitlines(keepends=True)
        )


@dataclass(frozen=True)
class Recipe:
    """How to build and test one repository version.

            ``packages`` are pip requirement specifiers installed first; ``requirements`` are files read
            from the source at the environment commit (missing ones are skipped), minus the projects
            named in ``exclude`` and minus editable (``-e``) lines; ``constraints`` apply to every
            install step and ``build_constraints`` to pip's isolated build environments too;
            ``pre_install`` edits are made in every source copy before installing; ``install`` runs in
            the source folder (``python`` / ``pip`` mean the environment's), in the shared environment
            at the environment commit unless ``install_in_base`` is off, and always again in the
            task's own layer at the task's commit; a dataset row's install command replaces it unless
        ``keep_install``. ``fixtures`` name helper servers started inside the
            sandbox (``httpbin``). ``tox_envs`` are tox environments that ``tox --current-env`` maps onto
    the task's interpreter. ``import_roots`` are the folders of a worktree put on
            ``PYTHONPATH`` when nothing is installed (empty: detected).
    """

    python: str
    install: str = "python -m pip install -e ."
    packages: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    build_constraints: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    pre_install: tuple[Edit, ...] = ()
    install_in_base: bool = True
    keep_install: bool = False
    test_cmd: str = PYTEST
    log_parser: str = "pytest"
    test_labels: TestLabels = "paths"
    test_env: Mapping[str, str] = field(default_factory=dict)
    fixtures: tuple[str, ...] = ()
    tox_envs: tuple[str, ...] = ()
    import_roots: tuple[str, ...] = ()
    upgrade_pip: bool = True
    verified: bool = True
    notes: str = ""

    def digest(self) -> str:
        """Short content hash: an edited recipe builds a new environment."""
        data = asdict(self)
        for name in ("notes", "verified", "test_cmd", "log_parser", "test_labels", "fixtures"):
            data.pop(name)
        # Fields added after environments were built count only when set, so that those
        # environments stay valid.
        for name in _LATER_FIELDS:
            if not data[name]:
                data.pop(name)
        data["test_env"] = sorted(self.test_env.items())
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    @property
    def editable(self) -> bool:
        """The install leaves the code in place (``-e``, ``develop``): a patch to plain
        source files needs no new install."""
        return bool(re.search(r"(^|\s)(-e|--editable|develop)(\s|$)", self.install))


_LATER_FIELDS = ("tox_envs",)


def _each(versions: Iterable[str], recipe: Recipe) -> dict[str, Recipe]:
    return dict.fromkeys(versions, recipe)


def _versions(text: str) -> list[str]:
    return text.split()


# --- the dataset's repositories ------------------------------------------------------------

_SQLFLUFF = Recipe(
    python="3.9",
    requirements=("requirements.txt", "requirements_dev.txt"),
    # Gone from PyPI / only reformat pytest's output; neither matters to the tests.
    exclude=("types-pkg_resources", "pytest-sugar"),
    notes="SWE-bench: Python 3.9, requirements files at the environment commit, pip -e .",
)
_MARSHMALLOW = Recipe(python="3.9", install="python -m pip install -e '.[dev]'")
_PVLIB = Recipe(
    python="3.9",
    install="python -m pip install -e .[all]",
    packages=("pandas", "scipy", "jupyter", "ipython", "matplotlib", "pytest", "flake8"),
    constraints=("numpy<2",),
    notes="numpy 2 breaks pvlib <= 0.10; pinned below 2.",
)
_ASTROID = Recipe(
    python="3.9",
    packages=("pytest",),
    # astroid >= 2.12 pins setuptools 62 as its build backend, which has no PEP 660 editable
    # hook, and current pip no longer falls back to `setup.py develop`. A regular install
    # gives the same dependencies; the code under test comes from the worktree anyway.
    install="python -m pip install .",
    keep_install=True,
)
_PYVISTA_OLD = Recipe(python="3.9", packages=("pytest",))
_PYVISTA = Recipe(
    python="3.9",
    packages=("pytest",),
    requirements=("requirements_test.txt", "requirements.txt"),
    notes="needs system libraries ffmpeg libsm6 libxext6 libxrender1 (not installed by us)",
)


def _pydicom(python: str) -> Recipe:
    # Its tests use nose-style `setup` methods, which pytest 8 no longer calls.
    return Recipe(python=python, packages=("numpy", "pytest<8"), log_parser="pytest_options")


# --- common SWE-bench repositories ---------------------------------------------------------


def _flask(python: str, pins: tuple[str, ...]) -> Recipe:
    return Recipe(python=python, packages=pins, requirements=("requirements/dev.txt",))


_FLASK_20_PINS = (
    "setuptools==70.0.0",
    "Werkzeug==2.3.7",
    "Jinja2==3.0.1",
    "itsdangerous==2.1.2",
    "click==8.0.1",
    "MarkupSafe==2.1.3",
)
_FLASK_21_PINS = (
    "setuptools==70.0.0",
    "click==8.1.3",
    "itsdangerous==2.1.2",
    "Jinja2==3.1.2",
    "MarkupSafe==2.1.1",
    "Werkzeug==2.3.7",
)

_PYTEST_PINS: dict[str, tuple[str, ...]] = {
    "4.4": ("atomicwrites==1.4.1", "attrs==23.1.0", "more-itertools==10.1.0", "pluggy==0.13.1",
            "py==1.11.0", "setuptools==68.0.0", "six==1.16.0"),
    "4.5": ("atomicwrites==1.4.1", "attrs==23.1.0", "more-itertools==10.1.0", "pluggy==0.11.0",
            "py==1.11.0", "setuptools==68.0.0", "six==1.16.0", "wcwidth==0.2.6"),
    "4.6": ("atomicwrites==1.4.1", "attrs==23.1.0", "more-itertools==10.1.0", "packaging==23.1",
            "pluggy==0.13.1", "py==1.11.0", "six==1.16.0", "wcwidth==0.2.6"),
    **dict.fromkeys(("5.0", "5.1", "5.2"), (
        "atomicwrites==1.4.1", "attrs==23.1.0", "more-itertools==10.1.0", "packaging==23.1",
        "pluggy==0.13.1", "py==1.11.0", "wcwidth==0.2.6")),
    "5.3": ("attrs==23.1.0", "more-itertools==10.1.0", "packaging==23.1", "pluggy==0.13.1",
            "py==1.11.0", "wcwidth==0.2.6"),
    "5.4": ("py==1.11.0", "packaging==23.1", "attrs==23.1.0", "more-itertools==10.1.0",
            "pluggy==0.13.1"),
    "6.0": ("attrs==23.1.0", "iniconfig==2.0.0", "more-itertools==10.1.0", "packaging==23.1",
            "pluggy==0.13.1", "py==1.11.0", "toml==0.10.2"),
    **dict.fromkeys(("6.2", "6.3"), (
        "attrs==23.1.0", "iniconfig==2.0.0", "packaging==23.1", "pluggy==0.13.1", "py==1.11.0",
        "toml==0.10.2")),
    "7.0": ("attrs==23.1.0", "iniconfig==2.0.0", "packaging==23.1", "pluggy==0.13.1",
            "py==1.11.0"),
    **dict.fromkeys(("7.1", "7.2"), (
        "attrs==23.1.0", "iniconfig==2.0.0", "packaging==23.1", "pluggy==0.13.1", "py==1.11.0",
        "tomli==2.0.1")),
    **dict.fromkeys(("7.4", "8.0", "8.1", "8.2", "8.3", "8.4"), (
        "iniconfig==2.0.0", "packaging==23.1", "pluggy==1.3.0", "exceptiongroup==1.1.3",
        "tomli==2.0.1")),
}  # fmt: skip

_ASTROPY_PINS = (
    "attrs==23.1.0", "exceptiongroup==1.1.3", "execnet==2.0.2", "hypothesis==6.82.6",
    "iniconfig==2.0.0", "numpy==1.25.2", "packaging==23.1", "pluggy==1.3.0", "psutil==5.9.5",
    "pyerfa==2.0.0.3", "pytest-arraydiff==0.5.0", "pytest-astropy-header==0.2.2",
    "pytest-astropy==0.10.0", "pytest-cov==4.1.0", "pytest-doctestplus==1.0.0",
    "pytest-filter-subpackage==0.1.2", "pytest-mock==3.11.1", "pytest-openfiles==0.5.0",
    "pytest-remotedata==0.4.0", "pytest-xdist==3.3.1", "pytest==7.4.0", "PyYAML==6.0.1",
    "setuptools==68.0.0", "sortedcontainers==2.4.0", "tomli==2.0.1",
)  # fmt: skip
_ASTROPY_OLD_PINS = (
    "attrs==17.3.0", "exceptiongroup==0.0.0a0", "execnet==1.5.0", "hypothesis==3.44.2",
    "cython==0.27.3", "jinja2==2.10", "MarkupSafe==1.0", "numpy==1.16.0", "packaging==16.8",
    "pluggy==0.6.0", "psutil==5.4.2", "pyerfa==1.7.0", "pytest-arraydiff==0.1",
    "pytest-astropy-header==0.1", "pytest-astropy==0.2.1", "pytest-cov==2.5.1",
    "pytest-doctestplus==0.1.2", "pytest-filter-subpackage==0.1", "pytest-forked==0.2",
    "pytest-mock==1.6.3", "pytest-openfiles==0.2.0", "pytest-remotedata==0.2.0",
    "pytest-xdist==1.20.1", "pytest==3.3.1", "PyYAML==3.12", "sortedcontainers==1.5.9",
    "tomli==0.2.0",
)  # fmt: skip
_ASTROPY = Recipe(
    python="3.9",
    install="python -m pip install -e .[test] --verbose",
    packages=_ASTROPY_PINS,
    # SWE-bench edits pyproject.toml to pin the build's setuptools; a build constraint
    # reaches pip's isolated build environment without touching a tracked file.
    build_constraints=("setuptools==68.0.0",),
    # The dependencies are all pinned above; compiling the extensions at the environment
    # commit too would only be thrown away (each task compiles its own commit).
    install_in_base=False,
    log_parser="pytest_v2",
)
_ASTROPY_OLD = Recipe(
    python="3.6",
    install="python -m pip install -e .[test] --verbose",
    packages=("setuptools==38.2.4", *_ASTROPY_OLD_PINS),
    install_in_base=False,
    test_cmd=ASTROPY_OLD,
    log_parser="pytest_v2",
    notes="astropy_helpers is a git submodule; its bootstrap falls back to the package index",
)

_XARRAY_PINS = (
    "numpy==1.23.0", "packaging==23.1", "pandas==1.5.3", "pytest==7.4.0",
    "python-dateutil==2.8.2", "pytz==2023.3", "six==1.16.0", "scipy==1.11.1",
    "setuptools==68.0.0", "dask==2022.8.1",
)  # fmt: skip
# SWE-bench builds xarray from ci/requirements/environment.yml with conda; these are its
# optional test dependencies that pip can install next to the pins above (without them
# whole test classes are skipped: bottleneck, cftime, sparse, netCDF4, ...).
_XARRAY_OPTIONAL = (
    "bottleneck<1.4", "cftime<1.6.4", "sparse<0.15", "netCDF4<1.7", "h5netcdf<1.2",
    "h5py<3.10", "zarr<2.16", "toolz", "hypothesis", "pint<0.22", "matplotlib<3.8",
    "seaborn<0.13", "pooch", "numexpr<2.9", "fsspec<2023.10", "distributed==2022.8.1",
    "pytest-env", "pytest-timeout", "numbagg<0.3", "numba<0.57",
)  # fmt: skip
_XARRAY = Recipe(
    python="3.10",
    packages=(*_XARRAY_PINS, *_XARRAY_OPTIONAL),
    constraints=("numpy==1.23.0", "pandas==1.5.3"),
)


def _django(python: str, install: str = "python -m pip install -e .") -> Recipe:
    return Recipe(
        python=python,
        install=install,
        packages=("setuptools",) if "setup.py" in install else (),
        requirements=("tests/requirements/py3.txt",),
        test_cmd=DJANGO,
        log_parser="django",
        test_labels="django",
        test_env={
            "LANG": "en_US.UTF-8",
            "LC_ALL": "en_US.UTF-8",
            "PYTHONIOENCODING": "utf8",
            "LANGUAGE": "en_US:en",
        },
        verified=False,
        notes="not fetchable here (snapshot over the size limit); needs the en_US.UTF-8 locale",
    )


_SYMPY = Recipe(
    python="3.9",
    packages=("mpmath==1.3.0", "flake8", "flake8-comprehensions"),
    test_cmd=SYMPY,
    log_parser="sympy",
)
_SYMPY_NEW = replace(_SYMPY, packages=("mpmath==1.3.0",), requirements=("requirements-dev.txt",))

_SPHINX_TOX = Edit("tox.ini", "pytest", "pytest -rA")
_SPHINX_OLD_PINS = (
    Edit("setup.py", "Jinja2>=2.3", "Jinja2<3.0"),
    Edit("setup.py", "sphinxcontrib-applehelp", "sphinxcontrib-applehelp<=1.0.7"),
    Edit("setup.py", "sphinxcontrib-devhelp", "sphinxcontrib-devhelp<=1.0.5"),
    Edit("setup.py", "sphinxcontrib-qthelp", "sphinxcontrib-qthelp<=1.0.6"),
    Edit("setup.py", "alabaster>=0.7,<0.8", "alabaster>=0.7,<0.7.12"),
    Edit("setup.py", "'packaging',", "'packaging', 'markupsafe<=2.0.1',"),
)
_SPHINX_HTML_PINS_NEW = (
    Edit("setup.py", "sphinxcontrib-htmlhelp>=2.0.0", "sphinxcontrib-htmlhelp>=2.0.0,<=2.0.4"),
    Edit(
        "setup.py",
        "sphinxcontrib-serializinghtml>=1.1.5",
        "sphinxcontrib-serializinghtml>=1.1.5,<=1.1.9",
    ),
)
_SPHINX_HTML_PINS_41 = (
    _SPHINX_HTML_PINS_NEW[0],
    Edit("setup.py", "sphinxcontrib-htmlhelp", "sphinxcontrib-htmlhelp<=2.0.4", fallback=True),
    _SPHINX_HTML_PINS_NEW[1],
    Edit(
        "setup.py",
        "sphinxcontrib-serializinghtml",
        "sphinxcontrib-serializinghtml<=1.1.9",
        fallback=True,
    ),
)
_SPHINX_HTML_PINS_OLD = (
    Edit("setup.py", "sphinxcontrib-htmlhelp", "sphinxcontrib-htmlhelp<=2.0.4"),
    Edit("setup.py", "sphinxcontrib-serializinghtml", "sphinxcontrib-serializinghtml<=1.1.9"),
)


def _sphinx(version: str) -> Recipe:
    edits: tuple[Edit, ...] = (_SPHINX_TOX,)
    old = _versions("3.0 3.1 3.2 3.3 3.4 3.5 4.0 4.1 4.2 4.3 4.4")
    if version in old:
        edits += _SPHINX_OLD_PINS
        if version in ("4.2", "4.3", "4.4"):
            edits += _SPHINX_HTML_PINS_NEW
        elif version == "4.1":
            edits += _SPHINX_HTML_PINS_41
        else:
            edits += _SPHINX_HTML_PINS_OLD
    return Recipe(
        python="3.10" if version in ("8.0", "8.1") else "3.9",
        install="python -m pip install -e .[test]",
        packages=("tox==4.16.0", "tox-current-env==0.0.11", "Jinja2==3.0.3"),
        # SWE-bench's images predate Pygments 2.19 (whose LaTeX output some tests compare)
        # and docutils 0.22 (which removed docutils.utils.roman, imported by sphinx 3.x).
        constraints=("Pygments<2.19", "docutils<0.22"),
        pre_install=edits,
        test_cmd=SPHINX,
        log_parser="pytest_v2",
        tox_envs=("py39",),
        notes="7.2+ also want graphviz (a system package, not installed by us)",
    )


_SPHINX_VERSIONS = _versions(
    "1.5 1.6 1.7 1.8 2.0 2.1 2.2 2.3 2.4 3.0 3.1 3.2 3.3 3.4 3.5 4.0 4.1 4.2 4.3 4.4 4.5 5.0 "
    "5.1 5.2 5.3 6.0 6.2 7.0 7.1 7.2 7.3 7.4 8.0 8.1"
)


def _pylint(version: str) -> Recipe:
    packages: tuple[str, ...] = ()
    if version == "2.8":
        packages = ("pyenchant==3.2",)
    elif version in ("3.0", "3.1", "3.2", "3.3", "4.0"):
        packages = ("astroid==3.0.0a6", "setuptools")
    return Recipe(
        python="3.9",
        packages=packages,
        # Its requirement files list `-e .` lines, which are dropped (the install follows).
        requirements=("requirements_test.txt",),
        log_parser="pytest_options",
        notes="2.8 also wants libenchant-2-dev and hunspell-en-us (system packages)",
    )


_SEABORN_PINS = (
    "contourpy==1.1.0", "cycler==0.11.0", "fonttools==4.42.1", "importlib-resources==6.0.1",
    "kiwisolver==1.4.5", "matplotlib==3.7.2", "numpy==1.25.2", "packaging==23.1",
    "pillow==10.0.0", "pyparsing==3.0.9", "pytest", "python-dateutil==2.8.2",
    "pytz==2023.3.post1", "scipy==1.11.2", "six==1.16.0", "tzdata==2023.1", "zipp==3.16.2",
)  # fmt: skip


def _seaborn(version: str) -> Recipe:
    old = version == "0.11"
    return Recipe(
        python="3.9",
        install="python -m pip install -e ." if old else "python -m pip install -e .[dev]",
        packages=(*_SEABORN_PINS, "pandas==1.3.5" if old else "pandas==2.0.0"),
        constraints=("matplotlib==3.7.2", "numpy==1.25.2"),
        test_cmd="pytest --no-header -rA",
        log_parser="seaborn",
    )


_SKLEARN_OLD = Recipe(
    python="3.6",
    install="python -m pip install -v --no-use-pep517 --no-build-isolation -e .",
    packages=(
        "cython",
        "numpy==1.19.2",
        "setuptools",
        "scipy==1.5.2",
        "pytest",
        "pandas",
        "matplotlib",
    ),
    log_parser="pytest_v2",
    install_in_base=False,
    verified=False,
    notes="not fetchable here (snapshot over the size limit)",
)
_SKLEARN = Recipe(
    python="3.9",
    install="python -m pip install -v --no-use-pep517 --no-build-isolation -e .",
    packages=(
        "numpy==1.19.2",
        "scipy==1.5.2",
        "cython==3.0.10",
        "pytest",
        "pandas<2.0.0",
        "matplotlib<3.9.0",
        "setuptools",
        "joblib",
        "threadpoolctl",
    ),
    log_parser="pytest_v2",
    install_in_base=False,
    verified=False,
    notes="not fetchable here (snapshot over the size limit)",
)

_MATPLOTLIB_PINS = (
    "contourpy==1.1.0", "cycler==0.11.0", "fonttools==4.42.1", "ghostscript",
    "kiwisolver==1.4.5", "numpy==1.25.2", "packaging==23.1", "pillow==10.0.0", "pikepdf",
    "pyparsing==3.0.9", "python-dateutil==2.8.2", "six==1.16.0", "setuptools==68.1.2",
    "setuptools-scm==7.1.0", "typing-extensions==4.7.1", "pytest",
)  # fmt: skip


def _matplotlib(python: str, install: str, packages: tuple[str, ...], reqs: bool) -> Recipe:
    return Recipe(
        python=python,
        install=install,
        packages=packages,
        requirements=(
            ("requirements/dev/dev-requirements.txt", "requirements/testing/travis_all.txt")
            if reqs
            else ()
        ),
        install_in_base=False,
        log_parser="matplotlib",
        verified=False,
        notes="not fetchable here (snapshot over the size limit); SWE-bench also installs "
        "imagemagick, ffmpeg, texlive, a qhull source tree (system packages, not by us)",
    )


_MATPLOTLIB = {
    **_each(_versions("3.5 3.6 3.7"), _matplotlib("3.11", "python -m pip install -e .",
                                                  _MATPLOTLIB_PINS, False)),
    **_each(_versions("3.8 3.9"), _matplotlib(
        "3.11", 'python -m pip install --no-build-isolation -e ".[dev]"', _MATPLOTLIB_PINS,
        False)),
    **_each(_versions("3.1 3.2 3.3 3.4"), _matplotlib(
        "3.8", "python -m pip install -e .", ("pytest", "ipython"), True)),
    "3.0": _matplotlib("3.7", "python -m pip install -e .", ("pytest",), True),
}  # fmt: skip

_REQUESTS = Recipe(
    python="3.9",
    install="python -m pip install .",
    # A local httpbin inside the sandbox stands in for httpbin.org (HTTPBIN_URL).
    packages=("pytest", "httpbin==0.10.2", "pytest-httpbin==2.1.0"),
    log_parser="pytest_options",
    fixtures=("httpbin",),
)

REGISTRY: dict[str, dict[str, Recipe]] = {
    "sqlfluff/sqlfluff": _each(
        _versions("0.4 0.5 0.6 0.8 0.9 0.10 0.11 0.12 0.13 1.0 1.1 1.2 1.3 1.4 2.0 2.1 2.2"),
        _SQLFLUFF,
    ),
    "marshmallow-code/marshmallow": _each(
        _versions("2.18 2.19 2.20 3.0 3.1 3.2 3.4 3.8 3.9 3.10 3.11 3.12 3.13 3.15 3.16 3.19"),
        _MARSHMALLOW,
    ),
    "pvlib/pvlib-python": _each(_versions("0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9"), _PVLIB),
    "pylint-dev/astroid": _each(
        _versions("2.5 2.6 2.7 2.8 2.9 2.10 2.12 2.13 2.14 2.15 2.16 3.0"), _ASTROID
    ),
    "pyvista/pyvista": {
        **_each(_versions("0.20 0.21 0.22 0.23"), _PYVISTA_OLD),
        **_each([f"0.{n}" for n in range(24, 44)], _PYVISTA),
    },
    "pydicom/pydicom": {
        **_each(_versions("1.0 1.1 1.2 1.3"), _pydicom("3.6")),
        **_each(_versions("1.4 2.0"), _pydicom("3.8")),
        **_each(_versions("2.1 2.2"), _pydicom("3.9")),
        "2.3": _pydicom("3.10"),
        **_each(_versions("2.4 3.0"), _pydicom("3.11")),
    },
    "psf/requests": _each(
        _versions(
            "0.7 0.8 0.9 0.11 0.13 0.14 1.1 1.2 2.0 2.2 2.3 2.4 2.5 2.7 2.8 2.9 2.10 2.11 2.12 "
            "2.17 2.18 2.19 2.22 2.25 2.26 2.27 2.31 3.0"
        ),
        _REQUESTS,
    ),
    "pallets/flask": {
        "2.0": _flask("3.9", _FLASK_20_PINS),
        "2.1": _flask("3.10", _FLASK_21_PINS),
        **_each(_versions("2.2 2.3 3.0 3.1"), _flask("3.11", _FLASK_21_PINS)),
    },
    "pytest-dev/pytest": {
        version: Recipe(
            python="3.9",
            packages=pins,
            pre_install=(Edit("setup.cfg", ">=>=", ">="),) if version == "6.3" else (),
        )
        for version, pins in _PYTEST_PINS.items()
    },
    "sympy/sympy": {
        **_each(_versions("0.7 1.0 1.1 1.2 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11 1.12"), _SYMPY),
        **_each(_versions("1.13 1.14"), _SYMPY_NEW),
    },
    "astropy/astropy": {
        **_each(_versions("0.1 0.2 0.3 0.4 1.1 1.2"), _ASTROPY_OLD),
        # "1.3" rows are astropy 3.1 development commits whose astropy_helpers submodule
        # (commit 7f11678c, after helpers v3.0.2) is fetched from GitHub, which is not
        # reachable: the release is installed from the registry, and ah_bootstrap takes an
        # installed astropy-helpers before it tries to download one.
        "1.3": replace(_ASTROPY_OLD, packages=(*_ASTROPY_OLD.packages, "astropy-helpers==3.0.2")),
        **_each(_versions("3.0 3.1 3.2"), replace(_ASTROPY, build_constraints=())),
        **_each(_versions("4.1 4.2 4.3 5.0 5.1 5.2"), _ASTROPY),
        "v5.3": replace(_ASTROPY, python="3.10"),
    },
    "django/django": {
        **_each(
            _versions("1.7 1.8 1.9 1.10 1.11 2.0 2.1 2.2"),
            _django("3.5", "python setup.py install"),
        ),
        **_each(_versions("3.0 3.1 3.2"), _django("3.6")),
        "4.0": _django("3.8"),
        **_each(_versions("4.1 4.2"), _django("3.9")),
        **_each(_versions("5.0 5.1 5.2"), _django("3.11")),
    },
    "pylint-dev/pylint": {
        version: _pylint(version)
        for version in _versions("2.8 2.9 2.10 2.11 2.13 2.14 2.15 2.16 2.17 3.0 3.1 3.2 3.3 4.0")
    },
    "pydata/xarray": _each(
        _versions("0.12 0.18 0.19 0.20 2022.03 2022.06 2022.09 2023.07 2024.05"), _XARRAY
    ),
    "sphinx-doc/sphinx": {version: _sphinx(version) for version in _SPHINX_VERSIONS},
    "mwaskom/seaborn": {version: _seaborn(version) for version in _versions("0.11 0.12 0.13 0.14")},
    "scikit-learn/scikit-learn": {
        **_each(_versions("0.20 0.21 0.22"), _SKLEARN_OLD),
        **_each(_versions("1.3 1.4 1.5 1.6"), _SKLEARN),
    },
    "matplotlib/matplotlib": _MATPLOTLIB,
}


def registered_recipe(repo: str, version: str) -> Recipe | None:
    """The registry's recipe for ``repo`` at ``version``, if any."""
    return REGISTRY.get(repo, {}).get(str(version))


def repo_name(repo: str, instance_id: str = "") -> str:
    """The ``owner/name`` a task's recipe is registered under: its ``repo`` field, or for a
    row whose code comes from a local path or URL, its SWE-bench instance id
    (``owner__name-123``)."""
    if re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", repo) and not Path(repo).exists():
        return repo
    match = re.fullmatch(r"([\w.-]+?)__([\w.-]+)-\d+", instance_id)
    return f"{match.group(1)}/{match.group(2)}" if match else repo


def recipe_for(repo: str, version: str, source: Path | None = None) -> Recipe:
    """The registry's recipe, else one read from the source's packaging files."""
    recipe = registered_recipe(repo, version)
    if recipe is not None:
        return recipe
    return auto_recipe(source) if source is not None else Recipe(python=_newest_python())


# --- automatic recipes for unknown repositories ---------------------------------------------

_TEST_EXTRAS = ("test", "tests", "testing", "dev")
_REQUIREMENT_FILES = (
    "requirements.txt",
    "requirements-test.txt",
    "requirements_test.txt",
    "requirements-dev.txt",
    "requirements_dev.txt",
    "test-requirements.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/dev.txt",
)


def auto_recipe(source: Path, python: str | None = None) -> Recipe:
    """A recipe for an unknown repository, from ``pyproject.toml`` / ``setup.cfg`` /
    ``setup.py`` and requirement files; tests run with pytest."""
    packaging = _read(source / "pyproject.toml") + _read(source / "setup.cfg")
    packaging += _read(source / "setup.py")
    installable = bool(packaging.strip())
    extras = [extra for extra in _TEST_EXTRAS if _declares_extra(packaging, extra)]
    target = f".[{extras[0]}]" if extras else "."
    requirements = tuple(name for name in _REQUIREMENT_FILES if (source / name).is_file())
    chosen = python or _python_for(packaging)
    recipe = Recipe(
        python=chosen,
        install=f"python -m pip install -e {target}" if installable else "",
        packages=("pytest",),
        requirements=requirements,
        verified=False,
        notes=f"automatic recipe (no registry entry): guessed Python {chosen} from "
        f"{'requires-python' if _REQUIRES.search(packaging) else 'the newest interpreter'}, "
        f"install {target if installable else 'nothing'}, requirement files "
        f"{', '.join(requirements) or 'none'}",
    )
    log.warning("%s: %s", source.name, recipe.notes)
    return recipe


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _declares_extra(packaging: str, extra: str) -> bool:
    patterns = (
        rf"^\s*{extra}\s*=\s*\[",  # pyproject [project.optional-dependencies]
        rf"^\s*{extra}\s*=\s*$",  # setup.cfg [options.extras_require]
        rf"['\"]{extra}['\"]\s*:",  # setup.py extras_require={...}
    )
    return any(re.search(p, packaging, re.M) for p in patterns)


_REQUIRES = re.compile(r"""(?:requires-python|python_requires)\s*=\s*['"]?([^'"\n]+)""")


def _python_for(packaging: str) -> str:
    """The newest installed Python that ``requires-python`` / ``python_requires`` allows."""
    from agentless.validate._interpreters import available_versions

    match = _REQUIRES.search(packaging)
    spec = match.group(1) if match else ""
    for version in available_versions():
        if version.startswith("3.") and _allows(spec, version):
            return version
    return _newest_python()


def _newest_python() -> str:
    from agentless.validate._interpreters import available_versions

    versions = [v for v in available_versions() if v.startswith("3.")]
    return versions[0] if versions else "3.11"


def _allows(spec: str, version: str) -> bool:
    """A small check of ``>=3.8, <3.12``-style specifiers against ``X.Y``."""
    have = tuple(int(p) for p in version.split("."))
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = re.match(r"(>=|<=|==|!=|~=|>|<)\s*(\d+(?:\.\d+)*)", clause)
        if not match:
            continue
        op, text = match.groups()
        want = tuple(int(p) for p in text.split(".")[:2])
        checks = {
            ">=": have >= want,
            ">": have > want or (have == want and len(text.split(".")) > 2),
            "<=": have <= want,
            "<": have < want,
            "==": have == want,
            "~=": have >= want,
            "!=": have != want or len(text.split(".")) > 2,
        }
        if not checks[op]:
            return False
    return True
