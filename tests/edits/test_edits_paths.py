"""Path normalisation and resolution."""

from __future__ import annotations

import pytest

from agentless.edits import apply_reply
from agentless.edits._paths import normalize, resolve

FILES = ["src/pkg/mod.py", "src/pkg/util.py", "tests/test_mod.py", "docs/util.py", "Makefile"]


@pytest.mark.parametrize(
    "raw",
    [
        "/etc/passwd",
        "~/x.py",
        "C:\\x.py",
        "c:/x.py",
        "../x.py",
        "src/../../x",
        ".git/config",
        "src/.GIT/hooks/pre-commit",
        "a\x00b.py",
        "",
        "  ",
        "./",
    ],
)
def test_rejected(raw: str) -> None:
    path, why = normalize(raw)
    assert path == "" and why


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("./src/a.py", "src/a.py"),
        ("src//a.py", "src/a.py"),
        ("src\\a.py", "src/a.py"),
        (" a.py ", "a.py"),
        ("a/./b.py", "a/b.py"),
    ],
)
def test_normalized(raw: str, clean: str) -> None:
    assert normalize(raw) == (clean, "")


def test_exact_suffix_and_basename() -> None:
    assert resolve("src/pkg/mod.py", FILES, creates=False).path == "src/pkg/mod.py"
    assert resolve("pkg/mod.py", FILES, creates=False).path == "src/pkg/mod.py"
    assert resolve("lib/mod.py", FILES, creates=False).path == "src/pkg/mod.py"  # basename
    assert resolve("util.py", FILES, creates=False).reason == "ambiguous_path"
    assert resolve("nope.py", FILES, creates=False).reason == "no_file"


def test_creation_does_not_use_basename() -> None:
    found = resolve("lib/mod.py", FILES, creates=True)
    assert found.path == "lib/mod.py" and not found.exists
    assert resolve("src/pkg", FILES, creates=True).reason == "bad_path"
    assert resolve("/abs.py", FILES, creates=True).reason == "bad_path"


def test_a_stem_in_markdown_bold_names_the_file_for_edits_of_existing_text() -> None:
    # Seen with Qwen2.5-Coder-1.5B on exercise prompts: `__run_length__.py` as the path line.
    files = ["run_length.py", "pkg/mod.py", "other/mod.py", "pkg/__init__.py"]
    assert resolve("__run_length__.py", files, creates=False).path == "run_length.py"
    assert resolve("pkg/__mod__.py", files, creates=False).path == "pkg/mod.py"
    assert resolve("lib/__mod__.py", files, creates=False).reason == "ambiguous_path"
    assert resolve("pkg/__init__.py", files, creates=False).path == "pkg/__init__.py"
    assert resolve("__init__.py", ["init.py", "a/__init__.py"], creates=False).path == (
        "a/__init__.py"
    )
    # A whole file or an empty SEARCH: a new `__run_length__.py` or run_length.py in bold?
    assert resolve("__run_length__.py", files, creates=True).reason == "ambiguous_path"
    created = resolve("__other__.py", files, creates=True)  # no plain twin: a new file
    assert created.path == "__other__.py" and not created.exists


# Qwen2.5-Coder-1.5B's whole-file reply to the polyglot benchmark's bottle-song, each of 8
# times (the feedback on the markdown bold did not change the name).
BOLD_WHOLE_FILE = (
    "__bottle_song__.py\n```python\ndef recite(start, take=1):\n    verses = []\n"
    "    for i in range(start, start - take, -1):\n        if i == 1:\n"
    '            verses.append(f"{i} green bottle hanging on the wall.")\n        else:\n'
    '            verses.append(f"{i} green bottles hanging on the wall,")\n'
    '        verses.append("And if one green bottle should accidentally fall,")\n'
    '        verses.append(f"There\'ll be {i - 1} green bottles hanging on the wall.")\n'
    '    return "\\n".join(verses)\n```'
)


def test_a_whole_file_in_markdown_bold_that_rewrites_its_file_replaces_it() -> None:
    stub = "def recite(start, take=1):\n    pass\n"
    result = apply_reply(BOLD_WHOLE_FILE, {"bottle_song.py": stub}, "whole")
    assert result.ok, result.failed
    assert result.files["bottle_song.py"].startswith("def recite(start, take=1):\n    verses")
    assert result.files["bottle_song.py"].endswith('return "\\n".join(verses)\n')
    # What the file defines must all be there: else it may be a new file beside it.
    other = {"bottle_song.py": stub + "\n\ndef verse(n):\n    return str(n)\n"}
    refused = apply_reply(BOLD_WHOLE_FILE, other, "whole")
    assert not refused.ok and refused.failed[0].reason == "ambiguous_path"
    assert not refused.files


def test_a_new_dunder_module_beside_its_plain_twin_stays_refused() -> None:
    files = {"main.py": "def main():\n    print('hi')\n"}
    reply = "__main__.py\n```python\nfrom main import main\n\nmain()\n```"
    result = apply_reply(reply, files, "whole")
    assert not result.ok and result.failed[0].reason == "ambiguous_path"
    assert "main.py" in result.failed[0].feedback
    assert apply_reply(reply, {"app.py": "x = 1\n"}, "whole").files == {
        "__main__.py": "from main import main\n\nmain()\n"
    }


def test_alt_spelling_tried_exactly() -> None:
    files = ["a/b.py"]
    assert resolve("b.py", files, creates=False, fuzzy=False, alt="a/b.py").path == "a/b.py"


@pytest.mark.parametrize(
    ("raw", "why"),
    [("src/pkg", "is a directory"), ("Makefile/extra.mk", "Makefile is a file")],
)
def test_new_file_cannot_sit_where_the_tree_disagrees(raw: str, why: str) -> None:
    found = resolve(raw, FILES, creates=True, fuzzy=False)
    assert found.reason == "bad_path"
    assert why in found.message


def test_new_file_under_a_file_fails_in_apply_reply() -> None:
    reply = "mod.py/extra.py\n```python\n<<<<<<< SEARCH\n=======\nX = 1\n>>>>>>> REPLACE\n```\n"
    result = apply_reply(reply, {"mod.py": "Y = 2\n"})
    assert not result.ok
    assert result.failed[0].reason == "bad_path"
    assert result.files == {}


EXAMPLE_BLOCK = (
    "__format_example__/illustration.py\n```python\n<<<<<<< SEARCH\n{search}=======\n"
    "    total = price * count * (1 - discount)\n>>>>>>> REPLACE\n```\n"
)


def test_copied_format_example_is_refused_by_name_even_as_a_new_file() -> None:
    files = {"shop/cart.py": "def total(price, count):\n    total = price * count\n"}
    for search in ("    total = price * count\n", ""):
        result = apply_reply(EXAMPLE_BLOCK.format(search=search), files)
        assert [f.reason for f in result.failed] == ["bad_path"] and not result.files
        assert "format illustration from the instructions" in result.feedback


def test_placeholder_path_is_refused_with_what_to_write_instead() -> None:
    files = {"shop/cart.py": "x = 1\n"}
    reply = (
        "path/to/file.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n"
    )
    result = apply_reply(reply, files)
    assert [f.reason for f in result.failed] == ["bad_path"]
    assert "placeholder" in result.feedback and "real path" in result.feedback
    # A repository that really has such a file edits it.
    assert apply_reply(reply, {"path/to/file.py": "x = 1\n"}).files == {
        "path/to/file.py": "x = 2\n"
    }


def test_placeholder_followed_by_a_whole_real_path_edits_that_file() -> None:
    files = {"shop/stock.py": "x = 1\n", "stock.py": "x = 1\n"}
    block = "{}\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n"
    result = apply_reply(block.format("path/to/shop/stock.py"), files)
    assert result.files == {"shop/stock.py": "x = 2\n"}
    # Only a whole path of the tree: a part of one stays the placeholder it is.
    for partial in ("path/to/stock/file.py", "path/to/shop/missing.py"):
        result = apply_reply(block.format(partial), files)
        assert [f.reason for f in result.failed] == ["bad_path"], partial


def test_the_illustration_folder_before_a_whole_real_path_edits_that_file() -> None:
    # Qwen2.5-Coder-1.5B's whole-file replies to the beer-song and affine-cipher exercises,
    # all 16 of them, put the file under the illustration's folder.
    files = {"beer_song.py": "def recite(start, take=1):\n    pass\n", "illustration.py": "x\n"}
    reply = "__format_example__/beer_song.py\n```python\ndef recite(start, take=1):\n    return []\n```\n"
    result = apply_reply(reply, files, "whole")
    assert result.files == {"beer_song.py": "def recite(start, take=1):\n    return []\n"}
    # The illustration itself stays refused, even where the tree has a file of its name.
    copied = "__format_example__/illustration.py\n```python\ny\n```\n"
    assert [f.reason for f in apply_reply(copied, files, "whole").failed] == ["bad_path"]
    missing = "__format_example__/other.py\n```python\ny\n```\n"
    assert [f.reason for f in apply_reply(missing, files, "whole").failed] == ["bad_path"]
