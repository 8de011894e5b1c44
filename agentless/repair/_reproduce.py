"""Ask the model for a script that reproduces the issue (used to validate candidates)."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from agentless.model import Model
from agentless.repair._context import Window
from agentless.templates import render

_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


def extract_script(reply: str) -> str:
    """The first fenced block that parses as Python and prints a verdict; '' when none does."""
    blocks: list[str] = _FENCE.findall(reply)
    for block in blocks:
        try:
            ast.parse(block)
        except SyntaxError:
            continue
        if "Issue reproduced" in block or "Issue resolved" in block:
            return block
    return ""


def write_reproduction(model: Model, issue: str, windows: Sequence[Window]) -> str:
    """A reproduction script for ``issue``, or '' when the model gave none usable."""
    prompt = render("reproduce.j2", issue=issue, windows=windows)
    [reply] = model.complete(
        [{"role": "user", "content": prompt}], n=1, temperature=0.0, stage="reproduce"
    )
    return extract_script(reply.text)
