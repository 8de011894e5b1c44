"""Line handling and diff rendering: endings, final newlines, git-compatible output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import unidiff

from agentless.edits import apply_reply, render_diff
from agentless.edits._text import Doc, split_lines


@pytest.mark.parametrize(
    ("text", "lines", "eols"),
    [
        ("", [], []),
        ("a", ["a"], [""]),
        ("a\n", ["a"], ["\n"]),
        ("a\r\nb\r\n", ["a", "b"], ["\r\n", "\r\n"]),
        ("a\nb", ["a", "b"], ["\n", ""]),
        ("\n\n", ["", ""], ["\n", "\n"]),
        ("x\x0cy\u2028z\n", ["x\x0cy\u2028z"], ["\n"]),  # only \n splits lines
    ],
)
def test_split_lines(text: str, lines: list[str], eols: list[str]) -> None:
    assert split_lines(text) == (lines, eols)
    assert Doc.parse(text).text() == text


def test_replace_keeps_missing_final_newline_and_crlf() -> None:
    doc = Doc.parse("a\r\nb\r\nc")
    doc.replace(2, 3, ["C", "D"])
    assert doc.text() == "a\r\nb\r\nC\r\nD"
    doc.replace(4, 4, ["E"])
    assert doc.text() == "a\r\nb\r\nC\r\nD\r\nE"


def test_replace_can_set_final_newline() -> None:
    doc = Doc.parse("a\nb")
    doc.replace(2, 2, [], final_newline=True)
    assert doc.text() == "a\nb\n"


def _git_apply_check(tmp_path: Path, old: dict[str, str], diff: str) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for path, text in old.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode())
    patch = tmp_path.parent / (tmp_path.name + ".patch")
    patch.write_bytes(diff.encode())
    done = subprocess.run(
        ["git", "apply", "--check", str(patch)], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    subprocess.run(["git", "apply", str(patch)], cwd=tmp_path, check=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_render_diff_applies_with_git(tmp_path: Path) -> None:
    old = {
        "crlf.txt": "one\r\ntwo\r\nthree",
        "gone.py": "x = 1\n",
        "empty.txt": "",
        "dir/ünï.py": "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
        "with space.txt": "q\n",
    }
    new: dict[str, str | None] = {
        "crlf.txt": "one\r\nTWO\r\nthree\r\n",
        "gone.py": None,
        "empty.txt": None,
        "dir/ünï.py": "a\nB\nc\nd\ne\nf\ng\nh\nI\nj",
        "with space.txt": "r\n",
        "new/file.md": "hello\n",
        "new/empty": "",
    }
    diff = render_diff(old, new)
    assert len(unidiff.PatchSet(diff)) == 7
    _git_apply_check(tmp_path / "repo", old, diff)
    repo = tmp_path / "repo"
    for path, text in new.items():
        if text is None:
            assert not (repo / path).exists()
        else:
            assert (repo / path).read_bytes() == text.encode()


def test_render_diff_skips_unchanged() -> None:
    assert render_diff({"a": "x\n"}, {"a": "x\n"}) == ""


@pytest.mark.parametrize("path", ["pkg/é.py", "tab\there.py", 'say "hi".py', "x y.py"])
def test_rendered_diff_reads_back_whatever_the_name(path: str) -> None:
    # git quotes such names ("pkg/\303\251.py"); the udiff reader must undo the quoting.
    # (A backslash is not among them: paths read from replies take it for a separator.)
    old = {path: "a = 1\n"}
    new = {path: "a = 2\n"}
    result = apply_reply(render_diff(old, new), old, "udiff")
    assert result.failed == []
    assert result.files == new


def test_quoted_git_header_alone_names_the_new_file() -> None:
    # An empty new file has only the `diff --git` line and `new file mode`: no ---/+++ names.
    diff = render_diff({}, {"pkg/é.py": ""})
    result = apply_reply(diff, {"README": "x\n"}, "udiff")
    assert result.failed == []
    assert result.files == {"pkg/é.py": ""}
