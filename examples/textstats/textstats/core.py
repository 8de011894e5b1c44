"""Core statistics."""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[A-Za-z']+")


def word_counts(text: str) -> Counter[str]:
    """Count words, ignoring case and punctuation."""
    return Counter(word.lower() for word in _WORD.findall(text))


def mean(values: list[float]) -> float:
    """Arithmetic mean; raises ValueError on an empty list."""
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(values)


def median(values: list[float]) -> float:
    """Middle value of the sorted values; raises ValueError on an empty list."""
    if not values:
        raise ValueError("median of an empty list")
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle]
