"""Per-file work of an index build, run in worker processes (standard library only).

The parent reads every blob through one ``git cat-file --batch`` and hands a helper process its
share; each process parses skeletons and counts terms, and results are compact values (strings
and byte arrays) that pickle and unpickle cheaply.
"""

from __future__ import annotations

import gc
import json
import pickle
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from agentless.repo.filetree import BlobReader, content_excluded_reason
from agentless.repo.skeleton import parser_for, walk_elements
from agentless.repo.terms import identifier_terms, term_counts

TermBag = tuple[str, bytes]
"""Terms joined by newlines, and their counts as an ``array('i')`` in bytes."""


@dataclass(frozen=True)
class ScanJob:
    """One file to scan: its path, blob id, and whether to build its skeleton."""

    path: str
    blob: str
    skeleton: bool


ScanResult = tuple[str, str, int, "str | None", TermBag, TermBag]
"""(path, excluded reason or '', line count, skeleton JSON, content terms, definition terms)."""


def pack_terms(counts: Mapping[str, int]) -> TermBag:
    """A ``TermBag`` from term counts."""
    return "\n".join(counts), array("i", counts.values()).tobytes()


def unpack_terms(bag: TermBag) -> tuple[list[str], array[int]]:
    """Inverse of ``pack_terms``: (terms, counts)."""
    terms, raw = bag
    counts = array("i")
    counts.frombytes(raw)
    return (terms.split("\n") if terms else []), counts


def scan_files(git_dir: str, jobs: list[ScanJob]) -> list[ScanResult]:
    """Scan ``jobs`` in order, reading their blobs from ``git_dir``."""
    with BlobReader(Path(git_dir)) as reader:
        return scan_blobs(jobs, reader.read_many(job.blob for job in jobs))


def scan_blobs(jobs: list[ScanJob], blobs: Iterable[bytes]) -> list[ScanResult]:
    """Scan ``jobs`` whose contents are ``blobs`` (in the same order)."""
    # An AST is many small objects and creates no cycles: the cycle collector would only
    # walk them over and over.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return [scan_text(job, blob) for job, blob in zip(jobs, blobs, strict=True)]
    finally:
        if was_enabled:
            gc.enable()


def scan_text(job: ScanJob, data: bytes) -> ScanResult:
    """Skeleton and term counts of one file's content."""
    reason = content_excluded_reason(data)
    if reason:
        return (job.path, reason, 0, None, ("", b""), ("", b""))
    text = data.decode("utf-8", "replace")
    lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    parser = parser_for(job.path) if job.skeleton else None
    elements = parser(text) if parser else []
    defs: Counter[str] = Counter()
    for element in walk_elements(elements):
        for term in identifier_terms(element.name.rsplit(".", 1)[-1]):
            defs[term] += 1
    skeleton = (
        json.dumps([e.to_json() for e in elements], separators=(",", ":")) if parser else None
    )
    return (job.path, "", lines, skeleton, pack_terms(term_counts(text)), pack_terms(defs))


def main() -> None:
    """Helper-process entry: pickled ``(jobs, blobs)`` on stdin, pickled results on stdout."""
    jobs, blobs = pickle.load(sys.stdin.buffer)
    results = scan_blobs(jobs, blobs)
    sys.stdout.buffer.write(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
