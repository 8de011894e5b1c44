"""Where the SWE-bench dev rows are: ``$AGENTLESS_SWEBENCH_DEV``, else ``../shared/data/swebench``
beside the repository (tests that need them skip, with the reason, when they are absent)."""

from __future__ import annotations

import os
from pathlib import Path

DEV_DIR = Path(
    os.environ.get("AGENTLESS_SWEBENCH_DEV")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "swebench"
)
