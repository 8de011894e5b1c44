"""The three localization stages: files -> elements -> edit windows.

Each stage builds its prompt from the index (within the token budget), samples the model, keeps
only what resolves to something real, retries at a higher temperature while no reply names
anything real, and otherwise falls back (to retrieval, to issue-term matching, to the element
spans) and records that it did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from agentless.config import LocalizeConfig
from agentless.localize._context import (
    Block,
    Message,
    fit_blocks,
    fit_tree,
    numbered_blocks,
    paths_by_relevance,
    skeleton_blocks,
)
from agentless.localize._replies import Named, line_span, named_locations, named_paths
from agentless.localize._results import Attempt, ElementRef, LocationSet, Span, StageRecord
from agentless.model import Model, Usage
from agentless.repo import (
    Element,
    RepoIndex,
    identifier_terms,
    render_tree,
    text_terms,
    walk_elements,
)
from agentless.templates import render
from agentless.tokens import count_message_tokens

T = TypeVar("T")


# --- files -------------------------------------------------------------------------------


def localize_files(
    model: Model, issue: str, index: RepoIndex, retrieved: Sequence[str], config: LocalizeConfig
) -> tuple[list[str], list[str], StageRecord]:
    """Rank files: the model's choice from the tree, merged with retrieval.

    Returns (merged ranking, the model's own files, record).
    """
    record = StageRecord("files")
    sources = index.source_paths()
    if len(sources) <= config.ask_files_over:
        # Every file would be kept whatever the model said: asking costs a call for nothing.
        record.fallback = f"not asked: the repository has {len(sources)} source file(s)"
        kept = merge_rankings([], retrieved, config.top_files)
        return kept + [p for p in sources if p not in kept], [], record
    ordered = paths_by_relevance(index, issue)
    messages, shown = fit_tree(
        ordered,
        lambda paths: files_messages(issue, paths, len(ordered), config),
        config.prompt_token_budget,
    )
    record.prompt_tokens = count_message_tokens(messages)
    record.dropped = ordered[len(shown) :]
    replies = sample(
        model,
        messages,
        stage="localize.files",
        samples=config.file_samples,
        config=config,
        record=record,
        parse=lambda reply: resolve_files(reply, index, sources),
    )
    if not replies:
        record.fallback = "no reply named a real file; used retrieval alone"
    model_files = vote(replies)[: config.top_files]
    return merge_rankings(model_files, retrieved, config.top_files), model_files, record


def files_messages(
    issue: str, paths: Sequence[str], total: int, config: LocalizeConfig
) -> list[Message]:
    """The file stage's chat messages for a tree of ``paths``."""
    note = ""
    if len(paths) < total:
        note = (
            f"\n{len(paths)} of {total} source files are shown: those most related to the issue.\n"
        )
    user = render(
        "localize_files.j2",
        tree=render_tree(paths),
        issue=issue,
        note=note,
        max_files=config.top_files,
    )
    return [system_message(), {"role": "user", "content": user}]


def resolve_files(reply: str, index: RepoIndex, candidates: Sequence[str]) -> list[str]:
    """Real files a reply names (exact path, else the unique file ending with it)."""
    found: dict[str, None] = {}
    for name in named_paths(reply):
        path = index.resolve_path(name, candidates)
        if path is not None:
            found.setdefault(path, None)
    return list(found)


def merge_rankings(model_files: Sequence[str], retrieved: Sequence[str], limit: int) -> list[str]:
    """Files both rankings contain first (in the model's order), then the model's, then retrieval's."""
    agreed = [path for path in model_files if path in retrieved]
    rest = [p for p in model_files if p not in agreed] + [
        p for p in retrieved if p not in model_files
    ]
    return list(dict.fromkeys(agreed + rest))[:limit]


# --- elements ----------------------------------------------------------------------------


def localize_elements(
    model: Model, issue: str, index: RepoIndex, files: Sequence[str], config: LocalizeConfig
) -> tuple[list[ElementRef], StageRecord]:
    """Classes, functions, methods and variables of the top files that the issue involves."""
    record = StageRecord("elements")
    blocks = skeleton_blocks(index, files)
    messages, shown = _fit("localize_elements.j2", issue, blocks, config, record)
    replies = sample(
        model,
        messages,
        stage="localize.elements",
        samples=config.element_samples,
        config=config,
        record=record,
        parse=lambda reply: resolve_elements(named_locations(reply), index, shown),
    )
    if replies:
        return vote(replies), record
    record.fallback = (
        "no reply named a real element; used the elements sharing most terms with the issue"
    )
    return elements_by_terms(issue, index, shown), record


def _fit(
    template: str,
    issue: str,
    blocks: Sequence[Block],
    config: LocalizeConfig,
    record: StageRecord,
) -> tuple[list[Message], list[str]]:
    """The stage's messages with as many blocks as the budget allows, and the paths shown;
    the record notes the prompt size and the blocks left out."""
    messages, kept, record.dropped = fit_blocks(
        blocks,
        lambda shown: blocks_messages(template, issue, shown),
        config.prompt_token_budget,
    )
    record.prompt_tokens = count_message_tokens(messages)
    return messages, [block.path for block in kept]


def blocks_messages(template: str, issue: str, blocks: Sequence[Block]) -> list[Message]:
    """The chat messages of the element or edit-window stage."""
    return [
        system_message(),
        {"role": "user", "content": render(template, blocks=blocks, issue=issue)},
    ]


def resolve_elements(
    named: Sequence[Named], index: RepoIndex, shown: Sequence[str]
) -> list[ElementRef]:
    """The real elements among ``named`` (line numbers are not elements and are skipped)."""
    found: dict[ElementRef, None] = {}
    for item in named:
        if item.kind == "line":
            continue
        ref = find_element(index, item, shown)
        if ref is not None:
            found.setdefault(ref, None)
    return list(found)


def find_element(index: RepoIndex, item: Named, shown: Sequence[str]) -> ElementRef | None:
    """The element ``item`` names: in its file when it names one, else uniquely among ``shown``."""
    path = index.resolve_path(item.path, shown) if item.path else None
    files = [path] if path else ([] if item.path else list(shown))
    matches = [
        (candidate, element)
        for candidate in files
        for element in _matching(index.skeleton(candidate), item)
    ]
    if len(matches) != 1:
        return None
    candidate, element = matches[0]
    return ElementRef(candidate, element.kind, element.name, element.start, element.end)


def _matching(elements: Sequence[Element], item: Named) -> list[Element]:
    everything = list(walk_elements(list(elements)))
    exact = [e for e in everything if e.name == item.value and _kind_fits(e.kind, item.kind)]
    if exact:
        return exact[:1]
    last = item.value.rsplit(".", 1)[-1]
    return [
        e for e in everything if e.name.rsplit(".", 1)[-1] == last and _kind_fits(e.kind, item.kind)
    ]


def _kind_fits(actual: str, said: str) -> bool:
    # Models mix up "function" and "method"; a class is never a function, nor a variable one.
    if said in ("function", "method"):
        return actual in ("function", "method")
    return actual == said


def elements_by_terms(
    issue: str, index: RepoIndex, files: Sequence[str], limit: int = 5
) -> list[ElementRef]:
    """Fallback: the elements whose names share the most terms with the issue; else whole files."""
    wanted = set(text_terms(issue))
    scored = []
    for order, path in enumerate(files):
        for element in walk_elements(index.skeleton(path)):
            overlap = len(wanted.intersection(identifier_terms(element.name.rsplit(".", 1)[-1])))
            if overlap:
                scored.append(
                    (
                        -overlap,
                        order,
                        element.start,
                        ElementRef(path, element.kind, element.name, element.start, element.end),
                    )
                )
    if scored:
        return [ref for *_, ref in sorted(scored, key=lambda s: s[:3])[:limit]]
    return [ElementRef(path, "file", "", 1, max(1, _line_count(index, path))) for path in files[:2]]


# --- edit windows ------------------------------------------------------------------------


def localize_windows(
    model: Model,
    issue: str,
    index: RepoIndex,
    elements: Sequence[ElementRef],
    config: LocalizeConfig,
) -> tuple[list[LocationSet], StageRecord]:
    """Lines, functions and classes to edit; each sample becomes one location set."""
    record = StageRecord("windows")
    spanned = sum(element.end - element.start + 1 for element in elements)
    if elements and spanned <= config.ask_lines_over:
        # Repair shows each element whole (with its margin) whatever lines the model named.
        record.fallback = f"not asked: the located elements span {spanned} line(s)"
        return [spans_of(elements)], record
    blocks = numbered_blocks(index, elements, config.context_margin)
    messages, shown = _fit("localize_lines.j2", issue, blocks, config, record)
    replies = sample(
        model,
        messages,
        stage="localize.windows",
        samples=config.window_samples,
        config=config,
        record=record,
        parse=lambda reply: list(resolve_windows(named_locations(reply), index, shown).items()),
    )
    if replies:
        return _distinct([dict(reply) for reply in replies]), record
    record.fallback = "no reply named a real place; used the located elements' spans"
    return [spans_of(elements)], record


def resolve_windows(named: Sequence[Named], index: RepoIndex, shown: Sequence[str]) -> LocationSet:
    """Real spans among ``named``: line ranges inside the file, and elements' spans."""
    spans: dict[str, set[Span]] = {}
    for item in named:
        if item.kind == "line":
            path = (
                index.resolve_path(item.path, shown)
                if item.path
                else (shown[0] if len(shown) == 1 else None)
            )
            span = line_span(item.value)
            if path and span and span[0] >= 1 and span[1] <= _line_count(index, path):
                spans.setdefault(path, set()).add(span)
        else:
            ref = find_element(index, item, shown)
            if ref is not None:
                spans.setdefault(ref.path, set()).add((ref.start, ref.end))
    return {path: sorted(found) for path, found in spans.items()}


def spans_of(elements: Sequence[ElementRef]) -> LocationSet:
    """One location set from elements (a whole-file element gives an empty span list)."""
    found: LocationSet = {}
    for element in elements:
        spans = found.setdefault(element.path, [])
        if element.kind != "file":
            spans.append((element.start, element.end))
    return {path: sorted(set(spans)) for path, spans in found.items()}


def _distinct(sets: list[LocationSet]) -> list[LocationSet]:
    unique: list[LocationSet] = []
    for location in sets:
        if location not in unique:
            unique.append(location)
    return unique


def _line_count(index: RepoIndex, path: str) -> int:
    entry = index.files.get(path)
    if entry is not None and entry.lines:
        return entry.lines
    return len(index.read_text(path).splitlines())


# --- sampling ----------------------------------------------------------------------------


def system_message() -> Message:
    """The system message every localization stage shares."""
    return {"role": "system", "content": render("localize_system.j2")}


def sample(
    model: Model,
    messages: list[Message],
    *,
    stage: str,
    samples: int,
    config: LocalizeConfig,
    record: StageRecord,
    parse: Callable[[str], list[T]],
) -> list[list[T]]:
    """Replies that named something real, parsed; empty when every round named nothing.

    Round 0 is one greedy sample plus ``samples - 1`` at ``config.temperature``; each retry
    round samples ``samples`` replies at a higher temperature.
    """
    for round_number in range(config.max_retries + 1):
        found: list[list[T]] = []
        for n, temperature in _plan(round_number, samples, config):
            completions = model.complete(
                messages, n=n, temperature=temperature, max_tokens=config.reply_tokens, stage=stage
            )
            parsed = [parse(c.text) for c in completions]
            record.attempts.append(
                Attempt(
                    round=round_number,
                    temperature=temperature,
                    replies=[c.text for c in completions],
                    usage=sum((c.usage for c in completions), Usage()),
                    named=sum(len(p) for p in parsed),
                )
            )
            found.extend(p for p in parsed if p)
        if found:
            return found
    return []


def _plan(round_number: int, samples: int, config: LocalizeConfig) -> list[tuple[int, float]]:
    if round_number == 0:
        return [(1, 0.0)] + ([(samples - 1, config.temperature)] if samples > 1 else [])
    return [(samples, retry_temperature(round_number, config))]


def retry_temperature(round_number: int, config: LocalizeConfig) -> float:
    """Temperature of retry round ``round_number`` (1, 2, ...): higher each time, at most 1.2."""
    return round(min(1.2, max(config.temperature, 0.5) + 0.2 * round_number), 2)


def vote(samples: Sequence[Sequence[T]]) -> list[T]:
    """Items of several ranked samples, by summed reciprocal rank (first sample wins ties)."""
    scores: dict[T, float] = {}
    for ranked in samples:
        for position, item in enumerate(ranked):
            scores[item] = scores.get(item, 0.0) + 1.0 / (position + 1)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores, key=lambda item: (-scores[item], order[item]))
