"""Per-file work of an index build, run in worker processes (standard library only).

The parent reads every blob through one ``git cat-file --batch``; it and its helper processes
(see ``_pool``) parse skeletons and count terms, chunk by chunk. Results are compact values
(strings and byte arrays) that pickle and unpickle cheaply.
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
from typing import IO

from agentless.repo._filetree import BlobReader, content_excluded_reason
from agentless.repo._skeleton import parser_for, walk_elements
from agentless.repo._terms import identifier_terms, term_counts

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


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    """Write one length-prefixed message."""
    stream.write(len(payload).to_bytes(8, "big") + payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes:
    """Read one length-prefixed message; ``EOFError`` when the stream ended early."""
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError("the other side closed the stream")
    size = int.from_bytes(header, "big")
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("the stream ended inside a message")
    return payload


def main() -> None:
    """Helper-process entry: pickled ``(jobs, blobs)`` chunks in, pickled results out."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            jobs, blobs = pickle.loads(read_frame(stdin))
        except EOFError:
            return
        results = scan_blobs(jobs, blobs)
        write_frame(stdout, pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
