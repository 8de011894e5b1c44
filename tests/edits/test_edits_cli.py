"""`agentless apply` on real working trees: all or nothing, diff out, feedback on failure."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentless.cli import main
from agentless.edits_io import TreeFiles, write_all
from agentless.errors import RepoError

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

APP = "def greet(name):\n    return 'hi ' + name\n"
CRLF = "a = 1\r\nb = 2\r\n"


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "app.py").write_text(APP)
    (repo / "win.py").write_bytes(CRLF.encode())
    (repo / "run.sh").write_text("echo hi\n")
    (repo / "run.sh").chmod(0o755)
    (repo / ".gitignore").write_text("ignored.py\n")
    (repo / "ignored.py").write_text("x = 1\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def _reply(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reply.md"
    path.write_text(text)
    return path


def _apply(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["apply", *args])
    # stdout_bytes: click's `stdout` turns CRLF into LF, and the diff carries CRs
    return result.exit_code, result.stdout_bytes.decode("utf-8", "surrogateescape"), result.stderr


GOOD = (
    "src/app.py\n```python\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n"
    "    return 'hello ' + name\n>>>>>>> REPLACE\n```\n"
    "win.py\n```python\n<<<<<<< SEARCH\nb = 2\n=======\nb = 3\n>>>>>>> REPLACE\n```\n"
    "run.sh\n```sh\n<<<<<<< SEARCH\necho hi\n=======\necho hello\n>>>>>>> REPLACE\n```\n"
    "src/new/mod.py\n```python\n<<<<<<< SEARCH\n=======\nX = 'é'\n>>>>>>> REPLACE\n```\n"
)


def test_apply_writes_and_prints_diff(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    code, out, err = _apply(str(_reply(tmp_path, GOOD)), "--repo", str(repo))
    assert code == 0, err
    assert (repo / "src" / "app.py").read_text() == APP.replace("'hi '", "'hello '")
    assert (repo / "win.py").read_bytes() == b"a = 1\r\nb = 3\r\n"
    assert (repo / "src" / "new" / "mod.py").read_text(encoding="utf-8") == "X = 'é'\n"
    assert os.stat(repo / "run.sh").st_mode & 0o777 == 0o755
    assert "+    return 'hello ' + name" in out and "new file mode" in out
    check = subprocess.run(["git", "apply", "--check", "-R", "-"], input=out.encode(), cwd=repo)
    assert check.returncode == 0  # the printed diff is exactly what was written
    assert not [p for p in repo.rglob(".agentless-*")]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    code, out, _ = _apply(str(_reply(tmp_path, GOOD)), "--repo", str(repo), "--dry-run")
    assert code == 0 and "diff --git a/src/app.py b/src/app.py" in out
    assert (repo / "src" / "app.py").read_text() == APP
    assert not (repo / "src" / "new").exists()


def test_any_failure_writes_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    bad = GOOD + "src/app.py\n<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE\n"
    code, out, err = _apply(str(_reply(tmp_path, bad)), "--repo", str(repo))
    assert code == 1 and out == ""
    assert "did not match src/app.py" in err and "4 edits were applied" in err
    assert "Nothing was written." in err
    assert (repo / "src" / "app.py").read_text() == APP
    assert not (repo / "src" / "new").exists()


def test_stdin_and_format(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    diff = "--- a/src/app.py\n+++ b/src/app.py\n@@\n-    return 'hi ' + name\n+    return name\n"
    result = CliRunner().invoke(
        main, ["apply", "-", "--repo", str(repo), "--format", "udiff"], input=diff
    )
    assert result.exit_code == 0, result.stderr
    assert (repo / "src" / "app.py").read_text() == "def greet(name):\n    return name\n"


def test_ignored_files_are_not_edited(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    reply = "ignored.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"
    code, _, err = _apply(str(_reply(tmp_path, reply)), "--repo", str(repo))
    assert code == 1 and "no file ignored.py" in err
    assert "ignored.py" not in TreeFiles(repo)


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("s = 1\n")
    (repo / "link").symlink_to(outside, target_is_directory=True)
    reply = "link/evil.py\n<<<<<<< SEARCH\n=======\nboom = 1\n>>>>>>> REPLACE\n"
    code, _, err = _apply(str(_reply(tmp_path, reply)), "--repo", str(repo))
    assert code == 2 and "outside" in err
    assert not (outside / "evil.py").exists()
    reply = "link/secret.py\n<<<<<<< SEARCH\ns = 1\n=======\ns = 2\n>>>>>>> REPLACE\n"
    code, _, _ = _apply(str(_reply(tmp_path, reply)), "--repo", str(repo))
    assert code == 1 and (outside / "secret.py").read_text() == "s = 1\n"


def test_tree_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Inside some repository (the suite run from a checkout) git would list the folder.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "plain"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "m.py").write_text("a = 1\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "m.pyc").write_bytes(b"\x00")
    assert list(TreeFiles(root)) == ["pkg/m.py"]


def test_non_utf8_bytes_survive(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "latin.py").write_bytes(b"name = 'Jos\xe9'\nage = 1\n")
    reply = "latin.py\n<<<<<<< SEARCH\nage = 1\n=======\nage = 2\n>>>>>>> REPLACE\n"
    code, _, err = _apply(str(_reply(tmp_path, reply)), "--repo", str(repo))
    assert code == 0, err
    assert (repo / "latin.py").read_bytes() == b"name = 'Jos\xe9'\nage = 2\n"


def test_unwritable_target_is_a_repo_error_and_changes_nothing(tmp_path: Path) -> None:
    # A new file under a path that is a regular file cannot be created: the OS error is
    # reported as a RepoError naming the path, and the edit that did fit is not written either.
    repo = _repo(tmp_path)
    files = {"src/app.py": "changed\n", "run.sh/extra.py": "x = 1\n"}
    with pytest.raises(RepoError, match=r"run\.sh/extra\.py"):
        write_all(repo, files)
    assert (repo / "src" / "app.py").read_text() == APP
    assert [p.name for p in (repo / "src").iterdir()] == ["app.py"]
