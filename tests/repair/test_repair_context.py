"""Code windows for repair prompts."""

from __future__ import annotations

from agentless.repair import code_windows
from agentless.spans import merge_spans

TEXT = "".join(f"line {n}\n" for n in range(1, 41))


def test_spans_widen_clip_and_merge() -> None:
    assert merge_spans([(5, 6)], 2, 40) == [(3, 8)]
    assert merge_spans([(1, 2), (38, 40)], 5, 40) == [(1, 7), (33, 40)]
    assert merge_spans([(10, 12), (15, 16)], 2, 40) == [(8, 18)]
    assert merge_spans([(10, 12), (17, 18)], 2, 40) == [(8, 20)]  # adjacent after widening
    assert merge_spans([(10, 12), (30, 31)], 2, 40) == [(8, 14), (28, 33)]
    assert merge_spans([(50, 60)], 2, 40) == []


def test_windows_hold_exact_file_lines() -> None:
    windows = code_windows(
        {"a.py": TEXT, "b.py": "x = 1\r\ny = 2\r\n"}, {"a.py": [(20, 20)], "b.py": []}, 1
    )
    assert [(w.path, w.start, w.end) for w in windows] == [("a.py", 19, 21), ("b.py", 1, 2)]
    assert windows[0].text == "line 19\nline 20\nline 21"
    assert windows[1].text == "x = 1\r\ny = 2"


def test_unknown_files_are_skipped() -> None:
    assert code_windows({"a.py": TEXT}, {"missing.py": [(1, 2)]}, 3) == []


def test_margins_stop_at_a_blank_line_instead_of_cutting_into_a_neighbour() -> None:
    source = (
        "def mean(values):\n"  # 1
        "    if not values:\n"
        "        raise ValueError\n"
        "    return sum(values) / len(values)\n"  # 4
        "\n"
        "\n"
        "def median(values):\n"  # 7
        "    ordered = sorted(values)\n"
        "    return ordered[len(ordered) // 2]\n"  # 9
        "\n"
        "def mode(values):\n"  # 11
        "    return max(values, key=values.count)\n"
    )
    [window] = code_windows({"s.py": source}, {"s.py": [(7, 9)]}, 5)
    assert (window.start, window.end) == (7, 9)  # neither mean's last lines nor mode's def
    [wide] = code_windows({"s.py": source}, {"s.py": [(3, 8)]}, 2)
    assert (wide.start, wide.end) == (1, 9)  # no blank line in the margins: kept whole
