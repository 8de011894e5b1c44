"""Sample repairs from the model and turn each reply into a candidate patch.

For every location set: one prompt (instructions and format first, then code and issue, so that
server prefix caches serve the repeated samples), one greedy sample plus ``samples - 1`` at a
temperature, each reply applied with the edit engine. A reply whose edits do not all apply gets
up to ``reflections`` follow-ups carrying the engine's feedback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agentless.config import RepairConfig
from agentless.edits import EditResult, apply_reply, render_diff
from agentless.model import Model
from agentless.repair.context import Span, Window, code_windows
from agentless.templates import render

Message = dict[str, str]


@dataclass
class RepairSample:
    """One model reply (after any reflections) and the patch it produced."""

    location_set: int
    sample: int
    replies: list[str]
    patch: str
    new_files: dict[str, str | None]
    applied: int
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.patch) and not self.failures


def repair_messages(issue: str, windows: Sequence[Window], edit_format: str) -> list[Message]:
    """The chat messages for one location set."""
    return [
        {"role": "system", "content": render("repair_system.j2", edit_format=edit_format)},
        {"role": "user", "content": render("repair_user.j2", windows=windows, issue=issue)},
    ]


def generate_repairs(
    model: Model,
    issue: str,
    files: Mapping[str, str],
    location_sets: Sequence[Mapping[str, Sequence[Span]]],
    config: RepairConfig,
) -> list[RepairSample]:
    """All repair samples for all location sets, in a stable order (set, then sample)."""
    results: list[RepairSample] = []
    for set_index, locations in enumerate(location_sets):
        windows = code_windows(files, locations, config.context_margin)
        if not windows:
            continue
        messages = repair_messages(issue, windows, config.edit_format)
        for sample_index, reply in enumerate(_sample_replies(model, messages, config)):
            sample = _apply_with_reflection(model, messages, reply, files, config)
            sample.location_set, sample.sample = set_index, sample_index
            results.append(sample)
    return results


def _sample_replies(model: Model, messages: list[Message], config: RepairConfig) -> list[str]:
    greedy = model.complete(messages, n=1, temperature=0.0, stage="repair")
    replies = [c.text for c in greedy]
    if config.samples > 1:
        more = model.complete(
            messages, n=config.samples - 1, temperature=config.temperature, stage="repair"
        )
        replies += [c.text for c in more]
    return replies


def _apply_with_reflection(
    model: Model,
    messages: list[Message],
    reply: str,
    files: Mapping[str, str],
    config: RepairConfig,
) -> RepairSample:
    current = dict(files)
    replies = [reply]
    conversation = [*messages, {"role": "assistant", "content": reply}]
    applied = 0
    for attempt in range(config.reflections + 1):
        result = _apply(replies[-1], current, config.edit_format)
        applied += result.applied
        current.update({p: t for p, t in result.files.items() if t is not None})
        for path, text in result.files.items():
            if text is None:
                current.pop(path, None)
        failures = [f.feedback for f in result.failed]
        if not failures and result.applied:
            break
        if attempt == config.reflections:
            break
        feedback = result.feedback or "No edits were found in your reply."
        conversation.append(
            {"role": "user", "content": render("repair_reflect.j2", feedback=feedback)}
        )
        follow_up = model.complete(conversation, n=1, temperature=0.0, stage="repair.reflect")
        replies.append(follow_up[0].text)
        conversation.append({"role": "assistant", "content": replies[-1]})
    new_files = _changed(files, current)
    patch = render_diff(files, new_files) if new_files else ""
    return RepairSample(0, 0, replies, patch, new_files, applied, failures)


def _apply(reply: str, files: Mapping[str, str], edit_format: str) -> EditResult:
    # Models asked for one format sometimes answer in another; a reply with no edit in the
    # requested format gets one more reading with format detection.
    result = apply_reply(reply, files, edit_format)
    nothing_found = all(failure.reason == "no_edits" for failure in result.failed)
    if result.applied == 0 and nothing_found and edit_format != "auto":
        result = apply_reply(reply, files, "auto")
    return result


def _changed(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, str | None]:
    changed: dict[str, str | None] = {p: t for p, t in after.items() if before.get(p) != t}
    changed.update({p: None for p in before if p not in after})
    return changed
