"""Small statistics helpers for word counts (an example project with a real bug)."""

from textstats.core import mean, median, word_counts

__all__ = ["mean", "median", "word_counts"]
