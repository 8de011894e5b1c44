"""Repair's rule for whole files over the real-model corpus (tests/edit_corpus/real/): a
whole-file reply for a file the prompt showed only in windows is refused, and asks for the
change as edits of the lines shown. Over every reply, the rule must refuse no reply the engine
applied right; every whole file it or the engine refuses for a windowed file must get that
request (not the engine's "send the complete file": the model never saw all of it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agentless.edits import apply_reply
from agentless.repair import refuse_whole_files_of, shown_in_part

REAL = Path(__file__).resolve().parents[1] / "edit_corpus" / "real"
sys.path.insert(0, str(REAL))

from generate import request_messages  # noqa: E402
from projects import PROJECTS, REQUESTS  # noqa: E402

PROJECT_OF = {r[0]: r[1] for r in REQUESTS}
ROWS = [json.loads(line) for line in (REAL / "replies.jsonl").read_text().splitlines() if line]
LABELS = json.loads((REAL / "labels.json").read_text())


def test_the_rule_refuses_pieces_of_windowed_files_and_nothing_right() -> None:
    lost, newly_refused, windowed, through_engine, through_rule = [], [], [], 0, 0
    for row in ROWS:
        files, label = PROJECTS[PROJECT_OF[row["request"]]], LABELS[row["id"]]
        engine = apply_reply(row["reply"], files, row["format"])
        unseen = shown_in_part(files, request_messages(row["request"], row["format"]))
        ruled = refuse_whole_files_of(engine, unseen, files, row["format"])
        if label["expect"] == "apply":
            if engine.ok and engine.files == label["files"] and not ruled.ok:
                lost.append(row["id"])
            assert not ruled.ok or ruled.files == label["files"], "silently wrong"
        else:
            through_engine += engine.ok
            through_rule += ruled.ok
            if engine.ok and not ruled.ok:
                newly_refused.append(row["id"])
        for failure in ruled.failed:
            if failure.path in unseen and failure.reason in ("partial", "lazy"):
                windowed.append(row["id"])
                assert "you were shown only part of this file" in failure.feedback, row["id"]
    assert lost == []
    assert all("/whole/" in row_id for row_id in newly_refused)
    assert len(windowed) >= 5  # the dates and matrix pieces
    assert through_rule <= through_engine
