"""Code windows for repair prompts."""

from __future__ import annotations

from agentless.repair.context import code_windows, merge_spans

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
