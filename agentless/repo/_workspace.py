"""Bare mirrors cached per repository, and a fresh worktree per task.

A repository is named as ``owner/name`` (looked up in a folder of local mirrors, else cloned
through a URL template), a local path (a git repository, or a plain folder that is snapshotted
into a content-addressed commit), or a git URL. Each source is cloned once into
``<cache_dir>/mirrors/<key>.git``; every ``checkout`` adds a uniquely named worktree at the
requested commit and removes it on exit, so several tasks of one repository can run at once.
Operations that change a mirror hold a file lock for that mirror.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agentless.errors import RepoError
from agentless.repo._filetree import NOT_PROJECT_DIRS
from agentless.repo._git import (
    SNAPSHOT_IDENTITY,
    clone,
    commit_id,
    git_in,
    gitpython,
    keep_bare_visible,
    mark_not_bare,
    open_repo,
    pinned_env,
    translated,
)
from agentless.repo._locks import file_lock

if TYPE_CHECKING:
    import git

DEFAULT_URL_TEMPLATE = "https://github.com/{repo}.git"
SourceKind = Literal["git", "dir", "url"]

_OWNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class RepoSource:
    """Where a repository comes from, and the cache key of its mirror."""

    spec: str
    key: str
    kind: SourceKind
    location: str


def is_git_dir(path: Path) -> bool:
    """True for a bare repository or a folder whose top level holds ``.git``."""
    if (path / ".git").exists():
        return True
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def find_local_mirror(mirrors_dir: Path, repo: str) -> Path | None:
    """Find ``owner/name`` in a folder of mirrors, whatever its layout.

    Recognised names are ``owner+name``, ``owner__name`` and ``owner/name``, each with or
    without ``.git``; the match may be the repository itself or a folder holding exactly one
    repository (such as ``owner+name/repo``).
    """
    owner, name = repo.split("/", 1)
    for base in (f"{owner}+{name}", f"{owner}__{name}", f"{owner}/{name}"):
        for candidate in (mirrors_dir / base, mirrors_dir / f"{base}.git"):
            found = _repository_in(candidate)
            if found is not None:
                return found
    return None


def _repository_in(path: Path) -> Path | None:
    if not path.is_dir():
        return None
    if is_git_dir(path):
        return path
    children = [child for child in path.iterdir() if child.is_dir() and is_git_dir(child)]
    return children[0] if len(children) == 1 else None


def missing_paths(mirror: Path, sha: str) -> list[str]:
    """Paths whose blobs are absent (``ls-tree -l`` prints a non-numeric size for them).

    One ``ls-tree`` answers for every file; GitPython's tree objects would have to ask the
    object database about each blob in turn."""
    with translated("git ls-tree"):
        listing = git_in(mirror).ls_tree(
            "-r", "-l", "-z", "--full-tree", sha, stdout_as_string=False
        )
    missing = []
    for entry in listing.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        fields = meta.split()
        if len(fields) == 4 and fields[1] == b"blob" and not fields[3].isdigit():
            missing.append(path.decode("utf-8", "surrogateescape"))
    return missing


def exclude_missing(work_tree: Path, missing: Sequence[str]) -> None:
    """Leave ``missing`` paths (blobs a partial clone lacks) out of ``work_tree``'s checkout,
    so that checkouts and resets work; tests that read them will fail."""
    if not missing:
        return
    patterns = ["/*", *(f"!/{_escape_pattern(p)}" for p in missing)]
    with open_repo(
        work_tree, what=f"excluding {len(missing)} file(s) missing from the mirror"
    ) as repo:
        repo.git.sparse_checkout("set", "--no-cone", *patterns)
        if repo.common_dir != repo.git_dir:  # a linked worktree: its mirror's core.bare moved
            keep_bare_visible(Path(repo.common_dir))


def _escape_pattern(path: str) -> str:
    return re.sub(r"([*?\[\]\\!#])", r"\\\1", path)


def default_cache_dir() -> Path:
    """The user's cache folder for agentless (``$XDG_CACHE_HOME/agentless`` or ``~/.cache``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agentless"


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def safe_component(text: str, default: str) -> str:
    """``text`` as one folder name: each run of other characters than ``A-Za-z0-9_.-`` becomes
    ``-``; ``default`` when nothing is left."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or default


# A plain folder has no .gitignore discipline: virtualenvs and caches would flood the snapshot
# (and the index) with code that is not the project's.
_SNAPSHOT_JUNK = [
    *(f":(exclude,glob)**/{name}/**" for name in sorted(NOT_PROJECT_DIRS)),
    ":(exclude,glob)**/*.pyc",
]


class Workspace:
    """A cache of bare mirrors plus throw-away worktrees.

    ``cache_dir`` holds ``mirrors/``, ``worktrees/`` and ``locks/``. ``url_template`` turns
    ``owner/name`` into a clone URL when ``mirrors_dir`` has no local copy.
    """

    def __init__(
        self,
        cache_dir: Path,
        url_template: str = DEFAULT_URL_TEMPLATE,
        mirrors_dir: Path | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.url_template = url_template
        self.mirrors_dir = Path(mirrors_dir) if mirrors_dir is not None else None
        self._fetched: set[str] = set()

    # --- sources and mirrors ---------------------------------------------------------------

    def source(self, repo: str) -> RepoSource:
        """Classify ``repo`` (URL, local path, ``owner/name``) and name its mirror."""
        spec = str(repo).strip()
        if not spec:
            raise RepoError("empty repository name: give owner/name, a local path or a git URL")
        if _URL.match(spec):
            tail = safe_component(spec.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"), "repo")
            return RepoSource(spec, f"url-{tail}-{_digest(spec)}", "url", spec)
        path = Path(spec).expanduser()
        if path.exists():
            path = path.resolve()
            if not path.is_dir():
                raise RepoError(f"{spec} is a file, not a repository folder")
            kind: SourceKind = "git" if is_git_dir(path) else "dir"
            return RepoSource(
                spec,
                f"local-{safe_component(path.name, 'repo')}-{_digest(str(path))}",
                kind,
                str(path),
            )
        if _OWNER_NAME.match(spec):
            key = spec.replace("/", "+")
            if self.mirrors_dir is not None:
                local = find_local_mirror(self.mirrors_dir, spec)
                if local is not None:
                    return RepoSource(spec, key, "git", str(local))
            return RepoSource(spec, key, "url", self.url_template.format(repo=spec))
        raise RepoError(
            f"repository not found: {spec!r} is neither an existing folder, a git URL nor "
            "owner/name; check the path or the task's repo field"
        )

    def mirror(self, repo: str) -> Path:
        """The bare mirror of ``repo``, cloned (or snapshotted) on first use."""
        source = self.source(repo)
        path = self._mirror_path(source)
        if source.kind == "dir":
            with self._lock(source.key):
                if not (path / "HEAD").is_file():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with translated("git init"):
                        gitpython().Repo.init(path, bare=True).close()
            return path
        if (path / "HEAD").is_file():
            return path
        with self._lock(source.key):
            if not (path / "HEAD").is_file():
                self._clone(source, path)
        return path

    def resolve(self, repo: str, commit: str = "", *, exclude: Sequence[str] = ()) -> str:
        """The full commit id of ``commit`` in ``repo`` ('' = the source's current HEAD).

        A commit missing from the mirror is fetched from the source once; a local git
        repository with uncommitted changes cannot stand for '' (its HEAD would silently
        drop them). ``exclude`` names paths a plain folder's snapshot leaves out.
        """
        if commit.startswith("-"):
            raise RepoError(f"invalid commit {commit!r}: give a commit id, branch or tag")
        source = self.source(repo)
        mirror = self.mirror(repo)
        if source.kind == "dir":
            if commit:
                return self._known(mirror, commit, source)
            return self._snapshot(source, mirror, exclude)
        if exclude and not commit:
            raise RepoError(
                f"{source.spec} is a git repository, so {', '.join(exclude)} cannot be left out "
                "of it; use a plain folder (no .git) for this task"
            )
        if not commit:
            if source.kind == "git" and (Path(source.location) / ".git").exists():
                self._refuse_dirty(Path(source.location))
            commit = self._source_head(source, mirror)
        elif source.kind == "git" and not _SHA.match(commit):
            # A branch or tag moves: the source says where it is now, the mirror where it was.
            commit = self._source_rev(source, commit) or commit
        with open_repo(mirror) as bare:
            sha = commit_id(bare.git, commit)
        if sha is None:
            self._fetch(source, mirror, commit)
            sha = self._known(mirror, commit, source)
        return sha

    # --- worktrees -------------------------------------------------------------------------

    @contextlib.contextmanager
    def checkout(self, repo: str, commit: str = "") -> Iterator[Path]:
        """A fresh worktree of ``repo`` at ``commit`` (detached); removed on exit."""
        source = self.source(repo)
        mirror = self.mirror(repo)
        sha = self.resolve(repo, commit)
        parent = self.cache_dir / "worktrees" / source.key
        parent.mkdir(parents=True, exist_ok=True)
        path = parent / f"{sha[:12]}-{uuid.uuid4().hex[:8]}"
        # Held while the worktree lives: the kernel drops it if this process is killed, which
        # is how ``sweep_abandoned`` tells a dead owner's worktree from a busy one.
        owner = path.with_name(path.name + ".lock")
        try:
            with file_lock(owner):
                with (
                    self._lock(source.key),
                    open_repo(mirror, what=f"creating a worktree of {repo} at {sha[:12]}") as bare,
                ):
                    bare.git.worktree("add", "--detach", "--no-checkout", "--quiet", str(path), sha)
                    mark_not_bare(path)
                try:
                    self._populate(mirror, path, sha)
                    yield path
                finally:
                    self._remove_worktree(source, mirror, path)
        finally:
            owner.unlink(missing_ok=True)

    def sweep_abandoned(self) -> list[Path]:
        """Remove worktrees whose process died without removing them (killed with SIGKILL,
        say); returns them. Worktrees in use, by any process, are left alone."""
        removed: list[Path] = []
        for lock in sorted((self.cache_dir / "worktrees").glob("*/*.lock")):
            path = lock.with_name(lock.name.removesuffix(".lock"))
            try:
                with file_lock(lock, wait=False):
                    mirror = self.cache_dir / "mirrors" / f"{lock.parent.name}.git"
                    with self._lock(lock.parent.name):
                        if mirror.is_dir():
                            _drop_worktree(mirror, path)
                        shutil.rmtree(path, ignore_errors=True)
                    lock.unlink(missing_ok=True)
                    removed.append(path)
            except BlockingIOError:
                continue
        return removed

    def missing_files(self, repo: str, commit: str = "") -> list[str]:
        """Files of ``commit`` whose content the mirror lacks (a partial clone's large blobs).

        ``checkout`` leaves them out of the worktree (sparse checkout) instead of failing;
        tests that read them will fail, and callers can report why.
        """
        return missing_paths(self.mirror(repo), self.resolve(repo, commit))

    def reset(self, path: Path, commit: str = "HEAD") -> None:
        """Put a worktree back to ``commit``: tracked changes undone, untracked files removed."""
        with open_repo(path, what=f"resetting {path}") as repo:
            repo.head.reset(commit, index=True, working_tree=True, quiet=True)
            with translated(f"cleaning {path}"):
                repo.git.clean("-ffdxq")

    def restore(self, path: Path, files: Sequence[str], commit: str = "HEAD") -> None:
        """Put ``files`` of a worktree back to ``commit``; files ``commit`` lacks are left."""
        if not files:
            return  # no paths would mean every path to git
        with open_repo(path, what=f"listing files of {commit} in {path}") as repo:
            tree = repo.commit(commit).tree
            tracked = [name for name in files if _in_tree(tree, name)]
            if tracked:
                with translated(f"restoring files in {path}"):
                    # A path with ``*`` or ``:`` names only itself.
                    repo.git(literal_pathspecs=True).checkout(commit, "--", *tracked)

    def is_dirty(self, path: Path) -> bool:
        """True when a worktree has changed or untracked (not ignored) files."""
        with open_repo(path, what=f"git status in {path}") as repo:
            return repo.is_dirty(untracked_files=True)

    # --- helpers ---------------------------------------------------------------------------

    def _mirror_path(self, source: RepoSource) -> Path:
        return self.cache_dir / "mirrors" / f"{source.key}.git"

    def _lock(self, key: str) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.cache_dir / "locks" / f"{key}.lock")

    def _clone(self, source: RepoSource, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Clone beside the target and rename, so a half-made mirror is never seen as done.
        what = (
            f"cloning {source.spec} from {source.location} (check the name or URL, "
            "or put a mirror in the mirrors folder)"
        )
        with tempfile.TemporaryDirectory(prefix=f".{source.key}-", dir=path.parent) as tmp:
            partial = Path(tmp) / "mirror.git"
            clone(source.location, partial, "--mirror", what=what)
            partial.rename(path)

    def _source_head(self, source: RepoSource, mirror: Path) -> str:
        if source.kind == "git" and Path(source.location).is_dir():
            where = Path(source.location)
            with translated(f"reading HEAD of {where}"):
                return str(git_in(where).rev_parse("HEAD"))
        return "HEAD"

    def _source_rev(self, source: RepoSource, name: str) -> str | None:
        where = Path(source.location)
        if not where.is_dir():
            return None
        return commit_id(git_in(where), name)

    def _refuse_dirty(self, work_tree: Path) -> None:
        with open_repo(work_tree, what=f"git status in {work_tree}") as repo:
            changed = _changed_paths(repo)
        if changed:
            raise RepoError(
                f"{work_tree} has uncommitted changes ({changed}); commit or stash them, or "
                "name a commit explicitly, so the run sees exactly what you intend"
            )

    def _known(self, mirror: Path, commit: str, source: RepoSource) -> str:
        with open_repo(mirror) as repo:
            sha = commit_id(repo.git, commit)
        if sha is None:
            raise RepoError(
                f"commit {commit!r} not found in {source.spec} (looked in {source.location}); "
                "check the task's base_commit, or refresh the mirror"
            )
        return sha

    def _fetch(self, source: RepoSource, mirror: Path, commit: str) -> None:
        # A remote is asked once per workspace; a local source is cheap to ask every time.
        if source.kind == "dir" or (source.kind == "url" and source.key in self._fetched):
            return
        self._fetched.add(source.key)
        with self._lock(source.key), open_repo(mirror) as repo:
            # A failed fetch is not an error yet: the caller reports the commit still missing.
            with contextlib.suppress(RepoError), translated("git fetch"):
                repo.git.fetch("--quiet", "--prune", "origin")
            if _SHA.match(commit) and commit_id(repo.git, commit) is None:
                # Commits that no ref reaches (e.g. closed pull requests) by id.
                with contextlib.suppress(RepoError), translated("git fetch"):
                    repo.git.fetch("--quiet", "origin", commit)

    def _snapshot(self, source: RepoSource, mirror: Path, exclude: Sequence[str] = ()) -> str:
        folder = Path(source.location)
        leave_out = [f":(exclude,literal){path}" for path in exclude] + _SNAPSHOT_JUNK
        git = gitpython()
        with self._lock(source.key), tempfile.TemporaryDirectory(prefix="agentless-index-") as tmp:
            # A private index: the folder is staged into it, never into anything of the user's.
            env = {**pinned_env(mirror), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            staging = git.Git(folder)  # its git options hold for one command only
            with translated(f"snapshotting {folder}"):
                staging(git_dir=mirror, work_tree=folder).add(
                    "--all", "--", ".", *leave_out, env=env
                )
            with translated("git write-tree"):
                tree = staging(git_dir=mirror, work_tree=folder).write_tree(env=env)
            with open_repo(mirror, what="recording the snapshot") as repo:
                sha = _snapshot_commit(repo, tree)
                git.Reference.create(repo, f"refs/snapshots/{sha}", sha, force=True)
                repo.head.set_reference(repo.create_head("snapshot", sha, force=True))
        return sha

    def _populate(self, mirror: Path, path: Path, sha: str) -> None:
        exclude_missing(path, missing_paths(mirror, sha))
        with open_repo(path, what=f"checking out {sha[:12]}") as repo:
            repo.head.reset(sha, index=True, working_tree=True, quiet=True)

    def _remove_worktree(self, source: RepoSource, mirror: Path, path: Path) -> None:
        with self._lock(source.key):
            _drop_worktree(mirror, path)


def _snapshot_commit(repo: git.Repo, tree: str) -> str:
    """A parentless commit of ``tree`` with the fixed snapshot identity and date: the same
    content always gives the same id (the one ``git commit-tree -m`` gives)."""
    git = gitpython()
    who = git.Actor(SNAPSHOT_IDENTITY["GIT_AUTHOR_NAME"], SNAPSHOT_IDENTITY["GIT_AUTHOR_EMAIL"])
    commit = git.Commit.create_from_tree(
        repo,
        tree,
        "agentless snapshot\n",
        parent_commits=[],
        author=who,
        committer=who,
        author_date=SNAPSHOT_IDENTITY["GIT_AUTHOR_DATE"],
        commit_date=SNAPSHOT_IDENTITY["GIT_COMMITTER_DATE"],
    )
    return str(commit.hexsha)


def _drop_worktree(mirror: Path, path: Path) -> None:
    """Delete and unregister a worktree of ``mirror``; a worktree already gone is fine."""
    with open_repo(mirror) as repo:
        with contextlib.suppress(RepoError), translated("git worktree remove"):
            repo.git.worktree("remove", "--force", "--force", str(path))
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(RepoError), translated("git worktree prune"):
            repo.git.worktree("prune")


def _in_tree(tree: git.Tree, path: str) -> bool:
    try:
        tree.join(path)
    except KeyError:
        return False
    return True


def _changed_paths(repo: git.Repo) -> list[str]:
    """Up to five changed (staged or not) or untracked, not ignored, paths of a work tree."""
    if not repo.is_dirty(untracked_files=True):
        return []
    changed = set(repo.untracked_files)
    if repo.head.is_valid():  # a repository without commits has only untracked files
        changed |= {diff.b_path or diff.a_path or "" for diff in repo.head.commit.diff(None)}
    return sorted(changed)[:5]
