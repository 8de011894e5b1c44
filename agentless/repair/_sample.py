"""Sample repairs from the model and turn each reply into a candidate patch.

For every location set: one prompt (instructions and format first, then code and issue, so that
server prefix caches serve the repeated samples), one greedy sample plus ``samples - 1`` at a
temperature, each reply applied with the edit engine. Location sets whose prompts come out
identical are sampled once: their replies would be the same requests again, and counting them
twice would give one reply two votes. A reply whose edits do not all apply gets up to
``reflections`` follow-ups carrying the engine's feedback, at ``reflect_temperature`` (greedy
decoding tends to resend the failed reply); a follow-up that repeats the failed reply ends
that sample's reflections.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from agentless.config import RepairConfig
from agentless.edits import EXAMPLE_FOLDER, EditFailure, EditResult, apply_reply, render_diff
from agentless.errors import ContextLengthError
from agentless.model import Model
from agentless.repair._context import Span, Window, code_windows
from agentless.templates import render
from agentless.tokens import count_message_tokens

log = logging.getLogger(__name__)

Message = dict[str, str]


@dataclass(frozen=True)
class RepairSample:
    """One model reply (after any reflections) and the patch it produced."""

    location_set: int
    sample: int
    replies: list[str]
    patch: str
    new_files: dict[str, str | None]
    applied: int
    failures: list[str] = field(default_factory=list)
    # The messages this sample's last reply answered, that reply included: a later try
    # (repair.feedback) goes on from here.
    conversation: list[Message] = field(default_factory=list)

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
    seen: dict[str, int] = {}
    for set_index, locations in enumerate(location_sets):
        if config.edit_format == "whole":
            # Asked for whole files, the model must see whole files: a file written back
            # from windows loses every line it was not shown.
            locations = {path: [] for path in locations}
        windows = code_windows(files, locations, config.context_margin)
        if not windows:
            continue
        messages = fit_prompt(issue, windows, config)
        prompt = json.dumps(messages)
        if prompt in seen:
            log.info("location set %d gives the same prompt as set %d", set_index, seen[prompt])
            continue
        seen[prompt] = set_index
        try:
            replies = _sample_replies(model, messages, config)
        except ContextLengthError as exc:
            log.warning("location set %d: repair prompt refused: %s", set_index, exc)
            results.append(RepairSample(set_index, 0, [], "", {}, 0, [f"not sent: {exc}"]))
            continue
        for sample_index, reply in enumerate(replies):
            conversation = [*messages, {"role": "assistant", "content": reply}]
            sample = apply_with_reflection(model, conversation, files, files, config)
            results.append(replace(sample, location_set=set_index, sample=sample_index))
    return results


def fit_prompt(issue: str, windows: Sequence[Window], config: RepairConfig) -> list[Message]:
    """The repair messages, leaving out code windows from the last while the prompt is over
    ``config.prompt_token_budget`` (the first window is always kept)."""
    kept = list(windows)
    messages = repair_messages(issue, kept, config.edit_format)
    budget = config.prompt_token_budget
    while budget is not None and len(kept) > 1 and count_message_tokens(messages) > budget:
        kept.pop()
        messages = repair_messages(issue, kept, config.edit_format)
    if len(kept) < len(windows):
        log.info("repair prompt: %d of %d code windows fit the budget", len(kept), len(windows))
    return messages


def _sample_replies(model: Model, messages: list[Message], config: RepairConfig) -> list[str]:
    limit = config.max_tokens
    greedy = model.complete(messages, n=1, temperature=0.0, max_tokens=limit, stage="repair")
    replies = [c.text for c in greedy]
    if config.samples > 1:
        more = model.complete(
            messages,
            n=config.samples - 1,
            temperature=config.temperature,
            max_tokens=limit,
            stage="repair",
        )
        replies += [c.text for c in more]
    return replies


def apply_with_reflection(
    model: Model,
    conversation: list[Message],
    files: Mapping[str, str],
    start: Mapping[str, str],
    config: RepairConfig,
) -> RepairSample:
    """Apply the reply that ends ``conversation`` to ``start`` (the code as the model was told
    it reads), reflecting on failed edits; the patch is taken against ``files``, the original."""
    current = dict(start)
    conversation = list(conversation)
    replies = [conversation[-1]["content"]]
    applied = 0
    unseen = shown_in_part(current, conversation)
    for attempt in range(config.reflections + 1):
        result = _apply(replies[-1], current, config.edit_format)
        result = refuse_whole_files_of(result, unseen, current, config.edit_format)
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
        feedback = result.feedback or (
            "No edits were found in your reply. Answer with edits in the format the "
            "instructions describe."
        )
        copied = copied_illustration(replies[-1], current, config.edit_format)
        if copied:
            feedback = (
                f"Your reply copies the format illustration's code ({copied}); that code is "
                "not in this repository. Edit the code shown under # Source code, copying "
                "the lines you change from it.\n\n" + feedback
            )
        conversation.append(
            {"role": "user", "content": render("repair_reflect.j2", feedback=feedback)}
        )
        follow_up = model.complete(
            conversation,
            n=1,
            temperature=config.reflect_temperature,
            max_tokens=config.max_tokens,
            stage="repair.reflect",
        )
        if _same_text(follow_up[0].text, replies[-1]):
            failures.append("the reflection repeated the failed reply; reflections stopped")
            conversation.pop()
            break
        replies.append(follow_up[0].text)
        conversation.append({"role": "assistant", "content": replies[-1]})
    new_files = _changed(files, current)
    patch = render_diff(files, new_files) if new_files else ""
    return RepairSample(0, 0, replies, patch, new_files, applied, failures, conversation)


def _same_text(a: str, b: str) -> bool:
    """The same reply but for whitespace (a model resending its reply re-spaces it at most)."""
    return a.split() == b.split()


@functools.cache
def illustration_lines(edit_format: str) -> frozenset[str]:
    """The code lines of the prompt's format illustration (stripped): a reply that uses them
    copied the example instead of editing the repository."""
    text = render("repair_format_" + edit_format + ".j2")
    _, marker, example = text.partition(EXAMPLE_FOLDER)
    if not marker:
        return frozenset()
    lines = (line.lstrip("+-").strip() for line in example.splitlines()[1:])
    return frozenset(
        line
        for line in lines
        if line
        and EXAMPLE_FOLDER not in line
        and not line.startswith(("```", "<<<<<<<", "=======", ">>>>>>>", "@@"))
    )


def copied_illustration(reply: str, files: Mapping[str, str], edit_format: str) -> str:
    """The first illustration line ``reply`` uses that no file has, quoted; '' when none."""
    known = illustration_lines(edit_format if edit_format != "auto" else "diff")
    for line in reply.splitlines():
        text = line.lstrip("+-").strip()
        if text in known and not any(text in body for body in files.values()):
            return f"`{text}`"
    return ""


def _apply(reply: str, files: Mapping[str, str], edit_format: str) -> EditResult:
    # Models asked for one format sometimes answer in another; a reply with no edit in the
    # requested format gets one more reading with format detection.
    result = apply_reply(reply, files, edit_format)
    nothing_found = all(failure.reason == "no_edits" for failure in result.failed)
    if result.applied == 0 and nothing_found and edit_format != "auto":
        result = apply_reply(reply, files, "auto")
    return result


def shown_in_part(files: Mapping[str, str], conversation: Sequence[Message]) -> frozenset[str]:
    """The files whose whole text no message of ours holds (shown in windows, or not at all)."""
    told = [m["content"] for m in conversation if m["role"] != "assistant"]
    return frozenset(
        path
        for path, text in files.items()
        if text.strip() and not any(text.strip() in message for message in told)
    )


def refuse_whole_files_of(
    result: EditResult, unseen: frozenset[str], files: Mapping[str, str], edit_format: str
) -> EditResult:
    """A whole-file reply for a file the model saw only in part would delete the rest of it
    (a 1.5B model writes back just the function it was shown): refused, with what to send.
    The engine's own refusals of such a file as incomplete are reworded the same way: asking
    for the complete file is asking for lines the model never saw."""
    if result.format != "whole":
        return result
    reworded = [f for f in result.failed if f.path in unseen and f.reason in ("partial", "lazy")]
    cut = sorted(p for p in result.files if p in unseen)
    if not cut and not reworded:
        return result
    kept = {p: t for p, t in result.files.items() if p not in cut}
    form = "a unified diff of" if edit_format == "udiff" else "SEARCH/REPLACE blocks that quote"
    failures = [
        EditFailure(
            path,
            "partial",
            f"{path}: you were shown only part of this file, so your whole-file version "
            f"would delete the rest of it. Send the change as {form} the lines you change.",
        )
        for path in sorted({*cut, *(f.path for f in reworded)})
    ]
    others = [f for f in result.failed if f not in reworded]
    diff = render_diff(files, kept) if kept else ""
    applied = max(0, result.applied - len(cut))
    return replace(result, files=kept, diff=diff, applied=applied, failed=[*others, *failures])


def _changed(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, str | None]:
    changed: dict[str, str | None] = {p: t for p, t in after.items() if before.get(p) != t}
    changed.update({p: None for p in before if p not in after})
    return changed
