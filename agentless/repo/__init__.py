"""Repositories: cached mirrors and worktrees (``Workspace``), and the file index (``RepoIndex``).

``Workspace`` checks a task's repository out at its base commit from a cached mirror;
``index_for`` / ``load_index`` build or load the cached ``RepoIndex`` of a commit (file tree,
skeletons, BM25 retrieval); ``Element`` and ``render_skeleton`` are the skeleton of a file, read
by the parser ``parser_for`` returns (``PARSERS`` maps a file suffix to its parser).
``NOT_PROJECT_DIRS`` names the folders that are never the project's own code (virtualenvs,
caches, build output); ``gitpython``, ``open_repo`` and ``clone`` are the one way the package
drives git (``our_git_vars``: the settings every git command of ours runs with). Names load
on first use, so that the index (numpy, bm25s) and GitPython load only when needed; the modules
behind these names are private.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentless.repo._filetree import NOT_PROJECT_DIRS, is_test_file
    from agentless.repo._git import clone, gitpython, open_repo, our_git_vars
    from agentless.repo._index import (
        IndexOptions,
        RepoIndex,
        build_index,
        index_for,
        load_index,
        render_tree,
    )
    from agentless.repo._locks import file_lock
    from agentless.repo._skeleton import (
        PARSERS,
        Element,
        parser_for,
        render_skeleton,
        walk_elements,
    )
    from agentless.repo._terms import identifier_terms, text_terms
    from agentless.repo._workspace import (
        RepoSource,
        Workspace,
        default_cache_dir,
        exclude_missing,
        find_local_mirror,
        missing_paths,
        safe_component,
    )

_EXPORTS = {
    "Element": ("agentless.repo._skeleton", "Element"),
    "IndexOptions": ("agentless.repo._index", "IndexOptions"),
    "NOT_PROJECT_DIRS": ("agentless.repo._filetree", "NOT_PROJECT_DIRS"),
    "PARSERS": ("agentless.repo._skeleton", "PARSERS"),
    "RepoIndex": ("agentless.repo._index", "RepoIndex"),
    "RepoSource": ("agentless.repo._workspace", "RepoSource"),
    "Workspace": ("agentless.repo._workspace", "Workspace"),
    "build_index": ("agentless.repo._index", "build_index"),
    "clone": ("agentless.repo._git", "clone"),
    "default_cache_dir": ("agentless.repo._workspace", "default_cache_dir"),
    "exclude_missing": ("agentless.repo._workspace", "exclude_missing"),
    "file_lock": ("agentless.repo._locks", "file_lock"),
    "find_local_mirror": ("agentless.repo._workspace", "find_local_mirror"),
    "gitpython": ("agentless.repo._git", "gitpython"),
    "identifier_terms": ("agentless.repo._terms", "identifier_terms"),
    "index_for": ("agentless.repo._index", "index_for"),
    "is_test_file": ("agentless.repo._filetree", "is_test_file"),
    "load_index": ("agentless.repo._index", "load_index"),
    "missing_paths": ("agentless.repo._workspace", "missing_paths"),
    "open_repo": ("agentless.repo._git", "open_repo"),
    "our_git_vars": ("agentless.repo._git", "our_git_vars"),
    "parser_for": ("agentless.repo._skeleton", "parser_for"),
    "render_skeleton": ("agentless.repo._skeleton", "render_skeleton"),
    "render_tree": ("agentless.repo._index", "render_tree"),
    "safe_component": ("agentless.repo._workspace", "safe_component"),
    "text_terms": ("agentless.repo._terms", "text_terms"),
    "walk_elements": ("agentless.repo._skeleton", "walk_elements"),
}

__all__ = [
    "NOT_PROJECT_DIRS",
    "PARSERS",
    "Element",
    "IndexOptions",
    "RepoIndex",
    "RepoSource",
    "Workspace",
    "build_index",
    "clone",
    "default_cache_dir",
    "exclude_missing",
    "file_lock",
    "find_local_mirror",
    "gitpython",
    "identifier_terms",
    "index_for",
    "is_test_file",
    "load_index",
    "missing_paths",
    "open_repo",
    "our_git_vars",
    "parser_for",
    "render_skeleton",
    "render_tree",
    "safe_component",
    "text_terms",
    "walk_elements",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'agentless.repo' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
