"""Token counts without a tokenizer download.

Real tokenizers (tiktoken, Hugging Face) fetch vocabularies at run time, which fails offline.
Budgets only need a close, slightly pessimistic estimate: runs of letters/digits count one token
per four characters (at least one), every other non-space character counts one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_PIECES = re.compile(r"[A-Za-z0-9_]+|[^\sA-Za-z0-9_]")


def count_tokens(text: str) -> int:
    """Estimated token count of ``text``."""
    total = 0
    for match in _PIECES.finditer(text):
        piece = match.group()
        total += (len(piece) + 3) // 4 if piece[0].isalnum() or piece[0] == "_" else 1
    return total


def count_message_tokens(messages: Iterable[Mapping[str, str]]) -> int:
    """Estimated prompt tokens of a chat request (content plus a few per message)."""
    return sum(count_tokens(m.get("content", "")) + 4 for m in messages)
