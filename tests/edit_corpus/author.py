"""Author the edit corpus: python tests/edit_corpus/author.py writes diff/udiff/whole.json.

Every case is written by hand: the original tree, a model-style reply with one kind of defect,
and the expected outcome - the changed files (computed here by plain string replacement of a
snippet that occurs exactly once, never by the engine) and/or the expected failure reasons.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases_diff import diff_cases
from cases_udiff import udiff_cases
from cases_whole import whole_cases
from trees import TREES

HERE = Path(__file__).resolve().parent


def main() -> None:
    ids: set[str] = set()
    for name, cases in (
        ("diff", diff_cases()),
        ("udiff", udiff_cases()),
        ("whole", whole_cases()),
    ):
        for c in cases:
            assert c["id"] not in ids, c["id"]
            ids.add(c["id"])
        data: dict[str, Any] = {"trees": TREES, "cases": cases}
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path.name}: {len(cases)} cases")


if __name__ == "__main__":
    main()
