"""Environment recipes: how to build a repository's test environment, as data.

A ``Recipe`` names the Python version, the packages installed first, the requirement files read
from the source at the environment commit, the install command, the test command and the log
parser. The registry holds the SWE-bench repositories (facts from SWE-bench's published
installation specs and from each project's own packaging); ``auto_recipe`` reads an unknown
repository's packaging files instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

TestLabels = Literal["paths", "django"]

PYTEST = "pytest -rA"
DJANGO = "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
SYMPY = "bin/test -C --verbose"


@dataclass(frozen=True)
class Recipe:
    """How to build and test one repository version.

    ``packages`` are pip requirement specifiers installed first; ``requirements`` are files read
    from the source at the environment commit (missing ones are skipped), minus the projects
    named in ``exclude``; ``constraints`` apply to every install step; ``install`` runs in the
    source folder (``python`` / ``pip`` mean the environment's). ``import_roots`` are the
    folders of a worktree put on ``PYTHONPATH`` (empty: detected).
    """

    python: str
    install: str = "python -m pip install -e ."
    packages: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    test_cmd: str = PYTEST
    log_parser: str = "pytest"
    test_labels: TestLabels = "paths"
    test_env: Mapping[str, str] = field(default_factory=dict)
    import_roots: tuple[str, ...] = ()
    upgrade_pip: bool = True
    notes: str = ""

    def digest(self) -> str:
        """Short content hash: an edited recipe builds a new environment."""
        data = asdict(self)
        data.pop("notes")
        data["test_env"] = sorted(self.test_env.items())
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


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
_ASTROPY = Recipe(
    python="3.9",
    install="python -m pip install -e .[test] --verbose",
    packages=_ASTROPY_PINS,
    log_parser="pytest_v2",
    notes="compiled extensions: built by the install at the environment commit only",
)

_XARRAY_PINS = (
    "numpy==1.23.0", "packaging==23.1", "pandas==1.5.3", "pytest==7.4.0",
    "python-dateutil==2.8.2", "pytz==2023.3", "six==1.16.0", "scipy==1.11.1",
    "setuptools==68.0.0", "dask==2022.8.1",
)  # fmt: skip


def _django(python: str, install: str = "python -m pip install -e .") -> Recipe:
    return Recipe(
        python=python,
        install=install,
        requirements=("tests/requirements/py3.txt",),
        test_cmd=DJANGO,
        log_parser="django",
        test_labels="django",
        test_env={"LANG": "en_US.UTF-8", "LC_ALL": "en_US.UTF-8", "PYTHONIOENCODING": "utf8"},
    )


_SYMPY = Recipe(
    python="3.9",
    packages=("mpmath==1.3.0", "flake8-comprehensions"),
    test_cmd=SYMPY,
    log_parser="sympy",
    test_env={"PYTHONWARNINGS": "ignore::UserWarning,ignore::SyntaxWarning"},
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
        Recipe(
            python="3.9",
            install="python -m pip install .",
            packages=("pytest",),
            log_parser="pytest_options",
            notes="tests that call httpbin.org or 10.255.255.1 fail offline, whatever the patch",
        ),
    ),
    "pallets/flask": {
        "2.0": _flask("3.9", _FLASK_20_PINS),
        "2.1": _flask("3.10", _FLASK_21_PINS),
        **_each(_versions("2.2 2.3 3.0 3.1"), _flask("3.11", _FLASK_21_PINS)),
    },
    "pytest-dev/pytest": {
        version: Recipe(python="3.9", packages=pins) for version, pins in _PYTEST_PINS.items()
    },
    "sympy/sympy": _each(
        _versions("0.7 1.0 1.1 1.2 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11 1.12 1.13 1.14"), _SYMPY
    ),
    "astropy/astropy": {
        **_each(_versions("3.0 3.1 3.2 4.1 4.2 4.3 5.0 5.1 5.2"), _ASTROPY),
        "v5.3": replace(_ASTROPY, python="3.10"),
    },
    "django/django": {
        **_each(_versions("3.0 3.1 3.2"), _django("3.6")),
        "4.0": _django("3.8"),
        **_each(_versions("4.1 4.2"), _django("3.9")),
        **_each(_versions("5.0 5.1 5.2"), _django("3.11")),
    },
    "pylint-dev/pylint": _each(
        _versions("2.8 2.9 2.10 2.11 2.13 2.14 2.15 2.16 2.17 3.0 3.1 3.2 3.3"),
        Recipe(python="3.9", requirements=("requirements_test.txt",), log_parser="pytest_options"),
    ),
    "pydata/xarray": _each(
        _versions("0.12 0.18 0.19 0.20 2022.03 2022.06 2022.09 2023.07 2024.05"),
        Recipe(python="3.10", packages=_XARRAY_PINS),
    ),
}


def registered_recipe(repo: str, version: str) -> Recipe | None:
    """The registry's recipe for ``repo`` at ``version``, if any."""
    return REGISTRY.get(repo, {}).get(str(version))


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
    return Recipe(
        python=python or _python_for(packaging),
        install=f"python -m pip install -e {target}" if installable else "",
        packages=("pytest",),
        requirements=requirements,
        notes="automatic recipe (no registry entry)",
    )


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


def _python_for(packaging: str) -> str:
    """The newest installed Python that ``requires-python`` / ``python_requires`` allows."""
    from agentless.validate.interpreters import available_versions

    match = re.search(r"""(?:requires-python|python_requires)\s*=\s*['"]?([^'"\n]+)""", packaging)
    spec = match.group(1) if match else ""
    for version in available_versions():
        if version.startswith("3.") and _allows(spec, version):
            return version
    return _newest_python()


def _newest_python() -> str:
    from agentless.validate.interpreters import available_versions

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
