"""What each stage shows the model, and keeping it within the prompt token budget.

Files are given in order of relevance; when a prompt is over budget, files are dropped from the
end (the least relevant), and a single file that alone is too large is cut line by line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agentless.localize._results import ElementRef, Span
from agentless.repo import RepoIndex, render_skeleton
from agentless.spans import merge_spans
from agentless.tokens import count_message_tokens

Message = dict[str, str]
CUT_NOTE = "... (cut to fit the prompt budget)"


@dataclass(frozen=True)
class Block:
    """One file's text as shown in a prompt."""

    path: str
    text: str


def fit_blocks(
    blocks: Sequence[Block],
    render: Callable[[Sequence[Block]], list[Message]],
    budget: int,
) -> tuple[list[Message], list[Block], list[str]]:
    """The messages for as many leading blocks as fit in ``budget`` tokens.

    Returns the messages, the blocks kept and the paths dropped.
    """
    kept = list(blocks)
    while len(kept) > 1 and count_message_tokens(render(kept)) > budget:
        kept.pop()
    if kept and count_message_tokens(render(kept)) > budget:
        kept = [_cut_to_fit(kept[0], render, budget)]
    dropped = [block.path for block in blocks[len(kept) :]]
    return render(kept), kept, dropped


def _cut_to_fit(
    block: Block, render: Callable[[Sequence[Block]], list[Message]], budget: int
) -> Block:
    lines = block.text.splitlines()
    low, high = 0, len(lines)
    while low < high:  # the most lines that still fit
        middle = (low + high + 1) // 2
        trial = Block(block.path, "\n".join([*lines[:middle], CUT_NOTE]))
        if count_message_tokens(render([trial])) <= budget:
            low = middle
        else:
            high = middle - 1
    return Block(block.path, "\n".join([*lines[:low], CUT_NOTE]))


def fit_tree(
    paths_by_relevance: Sequence[str],
    render: Callable[[Sequence[str]], list[Message]],
    budget: int,
) -> tuple[list[Message], list[str]]:
    """The file-stage messages with the most relevant paths that fit; returns messages, kept."""
    if count_message_tokens(render(paths_by_relevance)) <= budget:
        return render(paths_by_relevance), list(paths_by_relevance)
    low, high = 0, len(paths_by_relevance)
    while low < high:
        middle = (low + high + 1) // 2
        if count_message_tokens(render(paths_by_relevance[:middle])) <= budget:
            low = middle
        else:
            high = middle - 1
    kept = list(paths_by_relevance[:low])
    return render(kept), kept


def paths_by_relevance(index: RepoIndex, issue: str) -> list[str]:
    """Every searchable file: retrieval hits best first, then the rest in path order."""
    ranked = [hit.path for hit in index.search(issue, k=len(index.retriever.paths))]
    seen = set(ranked)
    return ranked + [path for path in index.source_paths() if path not in seen]


def skeleton_blocks(index: RepoIndex, paths: Sequence[str]) -> list[Block]:
    """Skeletons (with line spans) of ``paths``, in order."""
    blocks = []
    for path in paths:
        text = render_skeleton(index.skeleton(path), line_numbers=True)
        blocks.append(Block(path, text or "(no classes or functions)"))
    return blocks


def element_spans(index: RepoIndex, element: ElementRef) -> Span:
    """The lines of an element worth showing: a class with methods shows its head only
    (header, docstring, attributes), since its methods are named on their own."""
    if element.kind != "class":
        return (element.start, element.end)
    for candidate in index.skeleton(element.path):
        for item in candidate.walk():
            if item.name == element.name and item.kind == "class":
                methods = [c.start for c in item.children if c.kind == "method"]
                if methods:
                    return (element.start, max(element.start, min(methods) - 1))
    return (element.start, element.end)


def numbered_blocks(index: RepoIndex, elements: Sequence[ElementRef], margin: int) -> list[Block]:
    """Numbered code around the elements, one block per file, files in first-named order."""
    by_file: dict[str, list[Span]] = {}
    for element in elements:
        by_file.setdefault(element.path, []).append(element_spans(index, element))
    blocks = []
    for path, spans in by_file.items():
        lines = index.read_text(path).splitlines()
        windows = merge_spans(spans, margin, len(lines))
        width = len(str(len(lines)))
        parts: list[str] = []
        for start, end in windows:
            if parts or start > 1:
                parts.append("...")
            parts.extend(f"{n:>{width}}| {lines[n - 1]}" for n in range(start, end + 1))
        if windows and windows[-1][1] < len(lines):
            parts.append("...")
        blocks.append(Block(path, "\n".join(parts)))
    return blocks
