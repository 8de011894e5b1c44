"""Repair: assemble code context, sample model edits, apply them with the edit engine."""

from agentless.repair.context import Window, code_windows, merge_spans

__all__ = ["Window", "code_windows", "merge_spans"]
