"""Code-aware terms for retrieval.

An identifier yields its lower-cased parts (snake_case, CamelCase and digit runs split) and,
when it has several parts, itself whole: ``get_total_irradiance`` gives ``get``, ``total``,
``irradiance`` and ``get_total_irradiance``, so an issue that names a function exactly scores
the rare whole name while one that describes it in words still matches the parts. Dotted
names and paths fall apart at the dots and slashes.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

FIELDS = ("content", "path", "defs")
"""The retrieval fields of a file: its text, its path, the names it defines."""

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])[0-9]*|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")

_STOPWORD_TEXT = """
    a an and are as at be been but by can could did do does for from had has have how i if in
    into is it its it's me my no not of on or our should so such than that the their them then
    there these they this those to too was we were what when where which while who why will
    with would you your also just only very more most some any all each other same own here
    def self cls return import none true false else elif pass raise class lambda yield try
    except finally assert del global nonlocal args kwargs param params
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""English function words and Python keywords: they match everything and mean nothing."""


@functools.lru_cache(maxsize=1 << 18)
def identifier_terms(word: str) -> tuple[str, ...]:
    """Terms for one identifier (cached: a repository repeats its names endlessly)."""
    parts = [p.lower() for chunk in word.split("_") if chunk for p in _PART.findall(chunk)]
    whole = word.strip("_").lower()
    terms = [p for p in parts if len(p) > 1 and p not in STOPWORDS]
    # The whole identifier is a term when it has parts, or when its only part was dropped.
    if whole not in STOPWORDS and (len(parts) > 1 or (not terms and len(whole) > 1)):
        terms.append(whole)
    return tuple(terms)


def term_counts(text: str) -> dict[str, int]:
    """Terms of ``text`` with their counts (identifiers, words in comments and strings alike)."""
    counts: dict[str, int] = {}
    get = counts.get  # a plain dict and a bound get: this loop runs for every word of a repo
    for word, n in Counter(_WORD.findall(text)).items():
        for term in identifier_terms(word):
            counts[term] = get(term, 0) + n
    return counts


def text_terms(text: str) -> list[str]:
    """Distinct terms of ``text`` in first-seen order (used for queries)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text):
        for term in identifier_terms(word):
            seen.setdefault(term, None)
    return list(seen)


def path_terms(path: str) -> Counter[str]:
    """Terms of a repository path: folders and the file stem, split like identifiers."""
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    counts: Counter[str] = Counter()
    for piece in re.split(r"[/\\.\-\s]+", stem):
        for term in identifier_terms(piece) if piece else ():
            counts[term] += 1
    return counts
