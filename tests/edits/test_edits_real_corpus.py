"""The real-model corpus (tests/edit_corpus/real/) as tests.

Replies that local models wrote to the repair stage's own prompts, each labelled by hand with
the files applying it should give, or "should refuse". Every reply is a case: one labelled
"apply" must never come out ``ok`` with other files (silently wrong); one labelled "refuse"
that comes out ``ok`` is reported as an expected failure with the label's reason, and the
whole corpus must meet the issue's bar (at most 10% of those applied).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from agentless.edits import apply_reply

REAL = Path(__file__).resolve().parent.parent / "edit_corpus" / "real"
sys.path.insert(0, str(REAL))

from projects import PROJECTS, REQUESTS  # noqa: E402

PROJECT_OF = {r[0]: r[1] for r in REQUESTS}
ROWS = [json.loads(line) for line in (REAL / "replies.jsonl").read_text().splitlines() if line]
LABELS: dict[str, Any] = json.loads((REAL / "labels.json").read_text())


def _apply(row: dict[str, Any]) -> Any:
    return apply_reply(row["reply"], PROJECTS[PROJECT_OF[row["request"]]], row["format"])


def test_every_reply_is_labelled_and_the_corpus_covers_models_and_formats() -> None:
    assert [r["id"] for r in ROWS if r["id"] not in LABELS] == []
    assert set(LABELS) <= {r["id"] for r in ROWS}
    assert {r["format"] for r in ROWS} == {"diff", "udiff", "whole"}
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    for label in LABELS.values():
        assert label["expect"] in ("apply", "refuse")
        assert label.get("files") if label["expect"] == "apply" else label["why"]


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_reply(row: dict[str, Any]) -> None:
    label = LABELS[row["id"]]
    result = _apply(row)
    if label["expect"] == "refuse":
        if result.ok:  # counted against the bar below (at most 10% of them)
            pytest.xfail(f"applied, though it should be refused: {label['why']}")
        assert result.feedback.strip()
    elif result.ok:
        assert result.files == label["files"], "silently wrong"
    else:
        assert all(f.feedback.strip() for f in result.failed)


def test_corpus_meets_the_bar() -> None:
    """0 silently wrong, >= 90% of should-apply replies applied right, <= 10% of should-refuse
    replies applied."""
    right = wrong = missed = refused = let_through = 0
    for row in ROWS:
        label, result = LABELS[row["id"]], _apply(row)
        if label["expect"] == "refuse":
            let_through += result.ok
            refused += not result.ok
        elif not result.ok:
            missed += 1
        elif result.files == label["files"]:
            right += 1
        else:
            wrong += 1
    assert wrong == 0
    assert right >= 0.9 * (right + missed)
    assert let_through <= 0.1 * (let_through + refused)
