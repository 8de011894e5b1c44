"""A SWE-bench row end to end: run the pipeline with a scripted model that offers the gold fix
among wrong ones in different edit formats, then grade the chosen patch with ``agentless eval``.

Slow (builds the task's environment on first use) and needs local mirrors:

    AGENTLESS_MIRRORS=<folder of owner+name mirrors> .venv/bin/pytest -m slow \
        tests/test_pipeline_swebench.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from swebench_rows import DEV_DIR

from agentless.config import Config, load_config
from agentless.runner import run_evaluation, run_one
from agentless.tasks import load_tasks, select_instances
from agentless.testing import ScriptedServer

LITE = DEV_DIR / "lite_dev.jsonl"
INSTANCE = "marshmallow-code__marshmallow-1359"
FIELDS = "src/marshmallow/fields.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(not LITE.is_file(), reason="../shared/data/swebench/lite_dev.jsonl absent"),
    pytest.mark.skipif(
        not os.environ.get("AGENTLESS_MIRRORS"),
        reason="set AGENTLESS_MIRRORS to a folder of SWE-bench repository mirrors",
    ),
]

GOLD_AS_SEARCH_REPLACE = f"""The inner field is bound to the List, not to the schema; use the root.

{FIELDS}
```python
<<<<<<< SEARCH
            or getattr(schema.opts, self.SCHEMA_OPTS_VAR_NAME)
=======
            or getattr(self.root.opts, self.SCHEMA_OPTS_VAR_NAME)
>>>>>>> REPLACE
```
"""
WRONG_PARENT = GOLD_AS_SEARCH_REPLACE.replace("self.root.opts", "self.parent.opts")
WRONG_UDIFF = f"""```diff
--- a/{FIELDS}
+++ b/{FIELDS}
@@ ... @@
         self.format = (
             self.format
-            or getattr(schema.opts, self.SCHEMA_OPTS_VAR_NAME)
+            or getattr(schema.opts, self.SCHEMA_OPTS_VAR_NAME, None)
             or self.DEFAULT_FORMAT
         )
```
"""
REPRO = """```python
from marshmallow import Schema, fields

try:
    class MySchema(Schema):
        foo = fields.List(fields.DateTime())

        class Meta:
            datetimeformat = "iso8601"

    inner = MySchema().fields["foo"].inner
except AttributeError:
    print("Issue reproduced")
else:
    print("Issue resolved" if inner.format == "iso8601" else "Issue reproduced")
```
"""


def config_for(srv: ScriptedServer, tmp_path: Path) -> Config:
    return load_config(
        Path("/dev/null"),
        env={},
        overrides={
            "model": {"name": "scripted", "base_url": srv.url, "backoff_base": 0.01},
            "localize": {"window_samples": 1},
            "repair": {"samples": 4, "reflections": 0},
            "run": {"mirrors_dir": os.environ["AGENTLESS_MIRRORS"], "cache_dir": tmp_path / "c"},
            "validate": {"env_dir": os.environ.get("AGENTLESS_ENV_DIR"), "timeout": 600},
        },
    )


def test_swebench_row_selects_the_gold_equivalent_patch(tmp_path: Path) -> None:
    [task] = select_instances(load_tasks(LITE), [INSTANCE])
    gold_udiff = f"```diff\n{task.patch}```\n"
    with ScriptedServer() as srv:
        srv.on("# Repository files", f"```\n{FIELDS}\n```")
        srv.on("# Candidate files", f"```\n{FIELDS}\nmethod: DateTime._bind_to_schema\n```")
        srv.on("# Relevant code", f"```\n{FIELDS}\nline: 1110-1121\n```")
        srv.on("Write a standalone Python script", REPRO)
        srv.on("# Source code", WRONG_PARENT, gold_udiff, WRONG_UDIFF, GOLD_AS_SEARCH_REPLACE)
        outcome = run_one(task, config_for(srv, tmp_path), tmp_path / "run")
    result = outcome.result
    reasons = [c.reason for c in result.candidates]
    assert reasons[1].startswith("chosen with 2 vote(s)"), reasons
    assert reasons[3] == "same patch as the chosen one"
    assert reasons[0] == reasons[2] == "reproduction test fails"
    assert result.candidates[1].key == result.candidates[3].key
    assert result.patch == result.candidates[1].patch
    assert "+            or getattr(self.root.opts, self.SCHEMA_OPTS_VAR_NAME)" in result.patch

    predictions = outcome.run_dir / "predictions.jsonl"
    eval_config = load_config(
        Path("/dev/null"),
        env={},
        overrides={
            "run": {
                "run_dir": tmp_path / "eval",
                "mirrors_dir": os.environ["AGENTLESS_MIRRORS"],
                "cache_dir": tmp_path / "c",
            },
            "validate": {"env_dir": os.environ.get("AGENTLESS_ENV_DIR")},
        },
    )
    summary = run_evaluation(
        LITE, str(predictions), eval_config, instances=[INSTANCE], show_progress=False
    )
    assert summary["resolved_ids"] == [INSTANCE]
