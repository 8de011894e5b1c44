"""BM25 retrieval over files with separate fields, built on ``bm25s``.

Each file is three documents that share one vocabulary: its content (every identifier and
word, split the code-aware way), its path, and the names it defines. A query's score for a file
is a weighted sum of the three fields' BM25 scores, each divided by its best score for that
query (so no field drowns the others by scale), plus a bonus for files the issue names outright
(a path, a traceback frame, or a dotted module name).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agentless.repo._terms import FIELDS, text_terms


@dataclass(frozen=True)
class RetrievalWeights:
    """How much each field (and a named-in-the-issue mention) counts."""

    content: float = 1.0
    path: float = 0.5
    defs: float = 0.5
    mention: float = 1.0


@dataclass(frozen=True)
class Hit:
    """One retrieved file with its total and per-field scores."""

    path: str
    score: float
    fields: dict[str, float] = field(default_factory=dict)


def _bm25() -> Any:
    import bm25s  # imported late: ~0.1 s, and only retrieval needs it

    return bm25s.BM25(method="lucene", k1=1.2, b=0.75)


@dataclass
class FieldIndex:
    """A ``bm25s`` index (Lucene BM25) of one field over a vocabulary shared by all fields."""

    model: Any

    @classmethod
    def from_counts(
        cls,
        doc_ids: np.ndarray,
        term_ids: np.ndarray,
        counts: np.ndarray,
        num_docs: int,
        vocab_size: int,
    ) -> FieldIndex:
        """Index (document, term, count) triples, each (document, term) pair at most once.

        Computes the same matrix as ``bm25s.BM25.index`` on the expanded token lists (a test
        checks this), vectorised: expanding a large repository into one Python list per
        document costs more time and memory than the whole rest of the build.
        """
        model = _bm25()
        tf = counts.astype(np.float64)
        doc_len = np.bincount(doc_ids, weights=tf, minlength=num_docs)
        avg_len = float(doc_len.mean()) if num_docs else 1.0
        df = np.bincount(term_ids, minlength=vocab_size)
        idf = np.log(1.0 + (num_docs - df + 0.5) / (df + 0.5))
        norm = model.k1 * (1.0 - model.b + model.b * doc_len[doc_ids] / (avg_len or 1.0))
        scores = (idf[term_ids] * tf / (norm + tf)).astype(np.float32)
        data, indices, indptr = model._np_csc(
            data=scores,
            rows=doc_ids.astype(np.int32),
            cols=term_ids.astype(np.int32),
            shape=(num_docs, vocab_size),
        )
        model.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": num_docs}
        model.vocab_dict = {}
        model.nonoccurrence_array = None
        return cls(model)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], num_docs: int) -> FieldIndex:
        """Rebuild from ``arrays()`` output (as stored in the index cache)."""
        model = _bm25()
        model.scores = {
            "data": arrays["data"],
            "indices": arrays["indices"],
            "indptr": arrays["indptr"],
            "num_docs": num_docs,
        }
        model.vocab_dict = {}
        model.nonoccurrence_array = None
        return cls(model)

    def arrays(self) -> dict[str, np.ndarray]:
        """The sparse score matrix (CSC by term) as plain arrays."""
        return {name: self.model.scores[name] for name in ("data", "indices", "indptr")}

    def scores(self, term_ids: Sequence[int]) -> np.ndarray:
        """BM25 score of every document for the query terms."""
        num_docs = int(self.model.scores["num_docs"])
        if not term_ids:
            return np.zeros(num_docs, dtype=np.float32)
        return np.asarray(self.model.get_scores_from_ids(list(term_ids)), dtype=np.float32)


TermsAndCounts = tuple[Sequence[str], Sequence[int]]


@dataclass
class Retriever:
    """Fielded BM25 over a fixed list of files."""

    paths: list[str]
    vocab: dict[str, int]
    fields: dict[str, FieldIndex]
    weights: RetrievalWeights = field(default_factory=RetrievalWeights)
    _suffixes: dict[str, list[str]] | None = None
    _positions: dict[str, int] | None = None

    @classmethod
    def build(
        cls,
        paths: Sequence[str],
        field_terms: Mapping[str, Sequence[TermsAndCounts]],
        weights: RetrievalWeights | None = None,
    ) -> Retriever:
        """Index ``paths``; ``field_terms[field][i]`` are the (terms, counts) of file ``i``."""
        vocab: dict[str, int] = {}
        triples: dict[str, tuple[array[int], array[int], array[int]]] = {}
        for name in FIELDS:
            doc_ids, term_ids, counts = array("i"), array("i"), array("i")
            for doc, (terms, tfs) in enumerate(field_terms[name]):
                term_ids.extend([vocab.setdefault(term, len(vocab)) for term in terms])
                counts.extend(tfs)
                doc_ids.extend([doc] * len(terms))
            triples[name] = (doc_ids, term_ids, counts)
        fields = {}
        for name, (doc_ids, term_ids, counts) in triples.items():
            fields[name] = FieldIndex.from_counts(
                np.frombuffer(doc_ids, dtype=np.int32),
                np.frombuffer(term_ids, dtype=np.int32),
                np.frombuffer(counts, dtype=np.int32),
                num_docs=len(paths),
                vocab_size=len(vocab),
            )
        return cls(list(paths), vocab, fields, weights or RetrievalWeights())

    def field_scores(self, query: str) -> dict[str, np.ndarray]:
        """Per-field BM25 scores of every file for ``query`` text."""
        term_ids = [self.vocab[t] for t in text_terms(query) if t in self.vocab]
        return {name: index.scores(term_ids) for name, index in self.fields.items()}

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The ``k`` best files for ``query`` (an issue text), best first."""
        if not self.paths:
            return []
        per_field = self.field_scores(query)
        total = np.zeros(len(self.paths), dtype=np.float32)
        for name, scores in per_field.items():
            best = float(scores.max(initial=0.0))
            if best > 0:
                total += getattr(self.weights, name) * scores / best
        if self._positions is None:
            self._positions = {path: i for i, path in enumerate(self.paths)}
        for path, weight in mentioned_files(query, self.paths, self._suffix_map()).items():
            total[self._positions[path]] += self.weights.mention * weight
        order = np.argsort(-total, kind="stable")[:k]
        return [
            Hit(
                self.paths[i],
                float(total[i]),
                {name: float(scores[i]) for name, scores in per_field.items()},
            )
            for i in order
            if total[i] > 0
        ]

    def _suffix_map(self) -> dict[str, list[str]]:
        if self._suffixes is None:
            self._suffixes = suffix_map(self.paths)
        return self._suffixes


# --- files named in the issue ------------------------------------------------------------

_PATH_MENTION = re.compile(r"[\w.\-/\\]*[\w\-]+\.(?:py|pyi|pyx)\b")
_DOTTED_MENTION = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")
_TOO_COMMON = frozenset({"__init__.py", "setup.py", "conftest.py", "__main__.py"})


def suffix_map(paths: Sequence[str]) -> dict[str, list[str]]:
    """Every trailing part of every path (``b.py``, ``a/b.py``) -> the paths ending so."""
    found: dict[str, list[str]] = {}
    for path in paths:
        parts = path.split("/")
        for i in range(len(parts)):
            found.setdefault("/".join(parts[i:]), []).append(path)
    return found


def mentioned_files(
    text: str, paths: Sequence[str], suffixes: Mapping[str, list[str]] | None = None
) -> dict[str, float]:
    """Files the text names: paths (also absolute ones from tracebacks) and dotted modules.

    A bare file name that several files share counts for each of them, split evenly; names
    like ``__init__.py`` alone say nothing.
    """
    suffixes = suffixes if suffixes is not None else suffix_map(paths)
    found: dict[str, float] = {}
    for mention in _PATH_MENTION.findall(text):
        _credit(found, _longest_suffix(mention.replace("\\", "/").split("/"), suffixes))
    for dotted in _DOTTED_MENTION.findall(text):
        parts = dotted.split(".")
        for end in range(len(parts), 1, -1):
            base = "/".join(parts[:end])
            match = suffixes.get(base + ".py") or suffixes.get(base + "/__init__.py")
            if match:
                _credit(found, match)
                break
    return found


def _longest_suffix(parts: list[str], suffixes: Mapping[str, list[str]]) -> list[str]:
    parts = [p for p in parts if p and p != "."]
    for i in range(len(parts)):
        key = "/".join(parts[i:])
        if key in suffixes and not (i == len(parts) - 1 and key in _TOO_COMMON):
            return suffixes[key]
    return []


def _credit(found: dict[str, float], matches: list[str]) -> None:
    if not matches or len(matches) > 3:
        return
    for path in matches:
        found[path] = max(found.get(path, 0.0), 1.0 / len(matches))
