"""Repositories: cached mirrors and worktrees (``workspace``), and the file index (``index``).

Kept import-light: the index (numpy, bm25s) loads only when its module is imported.
"""

from agentless.repo.workspace import RepoSource, Workspace, find_local_mirror

__all__ = ["RepoSource", "Workspace", "find_local_mirror"]
