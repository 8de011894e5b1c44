"""Repair: assemble code context, sample model edits, apply them with the edit engine.

``code_windows`` cuts the localized spans into ``Window`` s of code; ``generate_repairs``
samples replies (``repair_messages`` is the prompt) and applies each into a ``RepairSample``;
``repair_after_tests`` gives a candidate whose tests failed (a ``TestReport``) one follow-up;
``write_reproduction`` asks for a script that reproduces the issue. ``shown_in_part`` names the
files a conversation showed only in windows, and ``refuse_whole_files_of`` refuses whole-file
replies for them (written back, such a file loses every line the model did not see). The
modules behind these names are private.
"""

from agentless.repair._context import Window, code_windows
from agentless.repair._feedback import TestReport, repair_after_tests
from agentless.repair._reproduce import write_reproduction
from agentless.repair._sample import (
    RepairSample,
    generate_repairs,
    refuse_whole_files_of,
    repair_messages,
    shown_in_part,
)

__all__ = [
    "RepairSample",
    "TestReport",
    "Window",
    "code_windows",
    "generate_repairs",
    "refuse_whole_files_of",
    "repair_after_tests",
    "repair_messages",
    "shown_in_part",
    "write_reproduction",
]
