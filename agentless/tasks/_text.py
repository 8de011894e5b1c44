"""Reading the text files a task is made of (issues, instructions), whatever their bytes."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def decoded(path: Path) -> str:
    """A text file's content; one that is not UTF-8 (a mail export, a Windows code page) is
    read with its undecodable bytes as U+FFFD, and said so."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        log.warning(
            "%s is not UTF-8 (byte %d): its undecodable bytes are read as U+FFFD",
            path,
            exc.start,
        )
        return data.decode("utf-8", errors="replace")
