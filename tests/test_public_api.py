"""Each subpackage's public surface: ``__all__`` lists what it exports; every name resolves, is
documented and is defined inside the subpackage; the modules behind the names are private, and
the rest of the package reaches them only through the subpackage."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import agentless

SUBPACKAGES = (
    "edits",
    "exercises",
    "localize",
    "model",
    "repair",
    "repo",
    "runner",
    "tasks",
    "testing",
    "validate",
)
PACKAGE_DIR = Path(agentless.__file__).parent

# Imports of another subpackage's private module, each with its reason.
PRIVATE_IMPORTS_ALLOWED = {
    # The record types alone: ``agentless.model`` loads the HTTP client and the config models.
    ("agentless/store.py", "agentless.model._types"),
}


def _package(name: str) -> ModuleType:
    return importlib.import_module(f"agentless.{name}")


def _is_definition(value: Any) -> bool:
    return inspect.isclass(value) or inspect.isroutine(inspect.unwrap(value))


def _own_docstring(value: Any) -> str:
    if inspect.isclass(value):
        doc = value.__dict__.get("__doc__") or ""
        # A dataclass without a docstring gets its signature as one.
        return "" if doc.startswith(f"{value.__name__}(") else doc.strip()
    return (value.__doc__ or "").strip()


def _assigned_names(name: str) -> set[str]:
    """The names the subpackage's modules bind at top level by assignment."""
    names: set[str] = set()
    for path in (PACKAGE_DIR / name).glob("*.py"):
        for node in ast.parse(path.read_text("utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_all_names_resolve_are_documented_and_defined_in_the_subpackage(name: str) -> None:
    package = _package(name)
    exported = package.__all__
    assert len(set(exported)) == len(exported), f"agentless.{name}.__all__ repeats a name"
    assert not [n for n in exported if n.startswith("_")], f"agentless.{name} exports a _name"
    assigned = _assigned_names(name)
    problems = [problem for public in exported if (problem := _problem(package, public, assigned))]
    assert problems == []


def _problem(package: ModuleType, public: str, assigned: set[str]) -> str:
    """What is wrong with ``package.public`` as a public name ('' when nothing is)."""
    value = getattr(package, public)
    where = f"{package.__name__}.{public}"
    if _is_definition(value):
        module = inspect.unwrap(value).__module__
        if module != package.__name__ and not module.startswith(package.__name__ + "."):
            return f"{where} is defined in {module}"
        return "" if _own_docstring(value) else f"{where} has no docstring"
    # A constant or a type alias has no docstring of its own: the package's names it.
    if public not in assigned:
        return f"{where} is not assigned in {package.__name__}"
    return "" if f"``{public}``" in (package.__doc__ or "") else f"{where} is not in its docstring"


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_unknown_names_fail_and_dir_lists_the_public_ones(name: str) -> None:
    package = _package(name)
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018
    assert set(package.__all__) <= set(dir(package))


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_the_modules_behind_a_subpackage_are_private(name: str) -> None:
    public = [m.name for m in pkgutil.iter_modules(_package(name).__path__) if m.name[0] != "_"]
    assert public == [], f"agentless.{name} has public modules: {public}"


def _private_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found.update(m for m in modules if m.count(".") >= 2 and m.split(".")[2][0] == "_")
    return found


def test_the_package_imports_other_subpackages_through_their_public_names() -> None:
    crossings = set()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR.parent).as_posix()
        for module in _private_imports(path):
            owner = "agentless/" + module.split(".")[1] + "/"
            if not rel.startswith(owner):
                crossings.add((rel, module))
    assert crossings == PRIVATE_IMPORTS_ALLOWED
