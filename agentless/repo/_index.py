"""The repository index: kept files, Python skeletons, and fielded BM25 retrieval.

Built from git objects at a commit (no checkout): ``git ls-tree`` lists the files, one
``git cat-file --batch`` reads them, this process and a helper parse skeletons and count terms,
and this process builds the BM25 fields. The result is cached on disk as one ``.npz``
file per (root tree, index version, options) — equal content shares one cache entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentless.errors import RepoError
from agentless.repo._filetree import (
    BlobReader,
    FileRole,
    TreeFile,
    excluded_reason,
    list_tree,
    role_of,
    tree_id,
)
from agentless.repo._git import resolve_commit, run_git
from agentless.repo._scan import ScanJob, ScanResult, scan_files, unpack_terms
from agentless.repo._skeleton import Element, parser_for
from agentless.repo._terms import FIELDS, path_terms

if TYPE_CHECKING:
    from agentless.repo._retrieval import Hit, RetrievalWeights, Retriever
    from agentless.repo._workspace import Workspace


INDEX_VERSION = 1


@dataclass(frozen=True)
class IndexOptions:
    """What goes into the index; the first three fields are part of the cache key."""

    max_file_bytes: int = 1_000_000
    include_tests: bool = False
    include_vendored: tuple[str, ...] = ()
    """Path prefixes kept although they look vendored (e.g. ``("requests/packages/",)``)."""
    workers: int = 2
    parallel_min_bytes: int = 2_000_000
    """Below this many bytes to scan, helper processes cost more than they save."""

    def cache_tag(self) -> str:
        """A short digest of the options that change the index's content."""
        key = f"{self.max_file_bytes}:{self.include_tests}"
        if self.include_vendored:
            key += ":" + ",".join(self.include_vendored)
        return hashlib.sha1(key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class IndexedFile:
    """A file kept in the index. ``searchable`` files are in retrieval and have skeletons."""

    path: str
    blob: str
    size: int
    role: FileRole
    lines: int = 0
    searchable: bool = False


@dataclass
class RepoIndex:
    """Files, skeletons and retrieval for one commit of one repository."""

    git_dir: Path
    commit: str
    tree: str
    files: dict[str, IndexedFile]
    retriever: Retriever
    excluded: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    from_cache: bool = False
    _skeleton_json: dict[str, str] = field(default_factory=dict, repr=False)
    _skeletons: dict[str, list[Element]] = field(default_factory=dict, repr=False)

    # --- queries ---------------------------------------------------------------------------

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The ``k`` files most related to ``query`` (an issue text), best first."""
        return self.retriever.search(query, k)

    def source_paths(self) -> list[str]:
        """Searchable files, sorted: what the file stage shows the model."""
        return sorted(p for p, f in self.files.items() if f.searchable)

    def skeleton(self, path: str) -> list[Element]:
        """Skeleton of ``path`` (parsed on demand for files not parsed at build time)."""
        if path not in self._skeletons:
            raw = self._skeleton_json.get(path)
            if raw is not None:
                elements = [Element.from_json(item) for item in json.loads(raw)]
            else:
                parser = parser_for(path)
                elements = parser(self.read_text(path)) if parser else []
            self._skeletons[path] = elements
        return self._skeletons[path]

    def read_text(self, path: str) -> str:
        """The content of a kept file at this commit."""
        entry = self.files.get(path)
        if entry is None:
            raise RepoError(f"{path} is not a file of the index at {self.commit[:12]}")
        proc = run_git(
            ["cat-file", "blob", entry.blob], git_dir=self.git_dir, what=f"reading {path}"
        )
        return proc.stdout.decode("utf-8", "replace")

    def resolve_path(self, name: str, candidates: Iterable[str] | None = None) -> str | None:
        """A real file for a path a model wrote: exact, then the unique file ending with it.

        ``candidates`` narrows the files considered (default: every kept file).
        """
        pool = set(candidates) if candidates is not None else set(self.files)
        variants = _path_variants(name)
        for variant in variants:
            if variant in pool:
                return variant
        for variant in variants:
            ends = [p for p in pool if p.endswith("/" + variant)]
            if len(ends) == 1:
                return ends[0]
        return None

    def stats(self) -> dict[str, Any]:
        """Counts for reports and the ``agentless index`` command."""
        roles = Counter(f.role for f in self.files.values())
        searchable = [f for f in self.files.values() if f.searchable]
        return {
            "commit": self.commit,
            "files": len(self.files),
            "roles": dict(roles),
            "searchable": len(searchable),
            "lines": sum(f.lines for f in searchable),
            "excluded": dict(self.excluded),
            "vocabulary": len(self.retriever.vocab),
            "seconds": round(self.seconds, 3),
            "from_cache": self.from_cache,
        }


def _path_variants(name: str) -> list[str]:
    """Spellings a model uses for a path: quoted, ``./x``, diff-style ``a/x`` and ``b/x``."""
    text = name.strip().strip("`'\"*").replace("\\", "/").strip()
    while text.startswith("./"):
        text = text[2:]
    text = text.lstrip("/")
    variants = [text] if text else []
    if text[:2] in ("a/", "b/") and len(text) > 2:
        variants.append(text[2:])
    return variants


def render_tree(paths: Sequence[str]) -> str:
    """Paths as an indented tree: folders end with ``/``, two spaces per level."""
    lines: list[str] = []
    previous: list[str] = []
    for path in sorted(paths):
        parts = path.split("/")
        folders = parts[:-1]
        common = 0
        while common < min(len(folders), len(previous)) and folders[common] == previous[common]:
            common += 1
        for depth in range(common, len(folders)):
            lines.append("  " * depth + folders[depth] + "/")
        lines.append("  " * len(folders) + parts[-1])
        previous = folders
    return "\n".join(lines)


# --- building ----------------------------------------------------------------------------


def load_index(
    git_dir: Path,
    commit: str = "HEAD",
    *,
    cache_dir: Path | None = None,
    options: IndexOptions | None = None,
    weights: RetrievalWeights | None = None,
) -> RepoIndex:
    """The index of ``commit`` in ``git_dir``, from ``cache_dir`` when built before."""
    options = options or IndexOptions()
    started = time.perf_counter()
    sha = _known_commit(git_dir, commit)
    tree = tree_id(git_dir, sha)
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"{tree}-v{INDEX_VERSION}-{options.cache_tag()}.npz"
        if cache_file.is_file():
            loaded = _read_cache(cache_file, git_dir, sha, weights)
            if loaded is not None:
                loaded.seconds = time.perf_counter() - started
                return loaded
    index = build_index(git_dir, sha, options=options, weights=weights, tree=tree)
    if cache_file is not None:
        _write_cache(index, cache_file)
    index.seconds = time.perf_counter() - started
    return index


def index_for(
    workspace: Workspace,
    repo: str,
    commit: str = "",
    *,
    options: IndexOptions | None = None,
    exclude: Sequence[str] = (),
) -> RepoIndex:
    """The index of ``repo`` at ``commit`` through a workspace's mirror and cache folder
    (``exclude``: see ``Workspace.resolve``)."""
    mirror = workspace.mirror(repo)
    sha = workspace.resolve(repo, commit, exclude=exclude)
    return load_index(mirror, sha, cache_dir=workspace.cache_dir / "index", options=options)


def build_index(
    git_dir: Path,
    commit: str,
    *,
    options: IndexOptions | None = None,
    weights: RetrievalWeights | None = None,
    tree: str = "",
) -> RepoIndex:
    """Build the index of ``commit`` without any cache."""
    options = options or IndexOptions()
    started = time.perf_counter()
    kept, excluded = _classify(list_tree(git_dir, commit), options)
    scan_roles = {"source", "test"} if options.include_tests else {"source"}
    jobs = [ScanJob(f.path, f.blob, True) for f, role in kept if role in scan_roles]
    sizes = {f.path: f.size for f, _ in kept}
    # Sorted, so that the index does not depend on how the work was split.
    results = sorted(_scan(git_dir, jobs, sizes, options), key=lambda result: result[0])
    files = {f.path: IndexedFile(f.path, f.blob, f.size, role) for f, role in kept}
    skeletons: dict[str, str] = {}
    searchable: list[str] = []
    terms: dict[str, list[tuple[list[str], array[int]]]] = {name: [] for name in FIELDS}
    for path, reason, lines, skeleton, content, defs in results:
        if reason:
            excluded[reason] = excluded.get(reason, 0) + 1
            del files[path]
            continue
        files[path] = dataclasses.replace(files[path], lines=lines, searchable=True)
        if skeleton is not None:
            skeletons[path] = skeleton
        searchable.append(path)
        terms["content"].append(unpack_terms(content))
        terms["defs"].append(unpack_terms(defs))
        names = path_terms(path)
        terms["path"].append((list(names), array("i", names.values())))
    del results
    from agentless.repo._retrieval import Retriever  # numpy and bm25s: only after the workers

    retriever = Retriever.build(searchable, terms, weights)
    return RepoIndex(
        git_dir=Path(git_dir),
        commit=commit,
        tree=tree or tree_id(git_dir, commit),
        files=files,
        retriever=retriever,
        excluded=excluded,
        seconds=time.perf_counter() - started,
        _skeleton_json=skeletons,
    )


def _known_commit(git_dir: Path, commit: str) -> str:
    if commit.startswith("-"):
        raise RepoError(f"invalid commit {commit!r}: give a commit id, branch or tag")
    sha = resolve_commit(commit or "HEAD", git_dir=git_dir)
    if sha is None:
        raise RepoError(
            f"commit {commit!r} not found in {git_dir}; check the commit id, or fetch it first"
        )
    return sha


def _classify(
    tree: list[TreeFile], options: IndexOptions
) -> tuple[list[tuple[TreeFile, FileRole]], dict[str, int]]:
    kept: list[tuple[TreeFile, FileRole]] = []
    excluded: dict[str, int] = {}
    for file in tree:
        reason = excluded_reason(file, options.max_file_bytes, options.include_vendored)
        if reason:
            excluded[reason] = excluded.get(reason, 0) + 1
        else:
            kept.append((file, role_of(file)))
    return kept, excluded


def _scan(
    git_dir: Path, jobs: list[ScanJob], sizes: dict[str, int], options: IndexOptions
) -> list[ScanResult]:
    """Scan files with ``options.workers`` processes: this one plus helpers."""
    total = sum(sizes[job.path] for job in jobs)
    if options.workers <= 1 or total < options.parallel_min_bytes or len(jobs) < 2:
        return scan_files(str(git_dir), jobs)
    from agentless.repo._pool import make_chunks, scan_shared

    # One git process reads everything and exits before the parsing starts, so its memory
    # is not held through the build.
    with BlobReader(git_dir) as reader:
        blobs = list(reader.read_many(job.blob for job in jobs))
    chunks = make_chunks(jobs, blobs, target=max(total // (8 * options.workers), 1))
    del blobs
    return scan_shared(chunks, helpers=options.workers - 1)


# --- the cache file ----------------------------------------------------------------------


def _write_cache(index: RepoIndex, path: Path) -> None:
    import numpy as np

    meta = {
        "version": INDEX_VERSION,
        "tree": index.tree,
        "files": [
            [f.path, f.blob, f.size, f.role, f.lines, int(f.searchable)]
            for f in index.files.values()
        ],
        "excluded": index.excluded,
        "paths": index.retriever.paths,
        "vocab": list(index.retriever.vocab),
        "skeletons": index._skeleton_json,
    }
    arrays = {"meta": np.frombuffer(zlib.compress(json.dumps(meta).encode(), 1), dtype=np.uint8)}
    for name, field_index in index.retriever.fields.items():
        for part, values in field_index.arrays().items():
            arrays[f"{name}.{part}"] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: readers never see half a file.
    fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_cache(
    path: Path, git_dir: Path, commit: str, weights: RetrievalWeights | None
) -> RepoIndex | None:
    import numpy as np

    from agentless.repo._retrieval import FieldIndex, RetrievalWeights, Retriever

    try:
        with np.load(path) as data:
            meta = json.loads(zlib.decompress(data["meta"].tobytes()))
            arrays = {name: data[name] for name in data.files if name != "meta"}
    except (OSError, ValueError, KeyError, zlib.error):
        return None  # damaged or from another version: rebuild
    if meta.get("version") != INDEX_VERSION:
        return None
    paths = meta["paths"]
    fields = {
        name: FieldIndex.from_arrays(
            {part: arrays[f"{name}.{part}"] for part in ("data", "indices", "indptr")}, len(paths)
        )
        for name in FIELDS
    }
    vocab = {term: i for i, term in enumerate(meta["vocab"])}
    files = {
        row[0]: IndexedFile(row[0], row[1], row[2], row[3], row[4], bool(row[5]))
        for row in meta["files"]
    }
    return RepoIndex(
        git_dir=Path(git_dir),
        commit=commit,
        tree=meta["tree"],
        files=files,
        retriever=Retriever(paths, vocab, fields, weights or RetrievalWeights()),
        excluded=meta["excluded"],
        from_cache=True,
        _skeleton_json=meta["skeletons"],
    )
