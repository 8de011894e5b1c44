"""Workspace: mirrors, worktrees, snapshots, errors and concurrency on real git repositories."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from gitrepos import commit_files, git, make_repo, write_files

from agentless.errors import RepoError
from agentless.repo import Workspace, find_local_mirror
from agentless.repo._git import SNAPSHOT_IDENTITY

NO_NETWORK = "file:///nonexistent/{repo}.git"


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, list[str]]:
    repo = tmp_path / "src"
    shas = make_repo(
        repo,
        {"pkg/a.py": "A = 1\n", "README.md": "hello\n"},
        {"pkg/a.py": "A = 2\n", "pkg/b.py": "B = 1\n"},
    )
    return repo, shas


def make_ws(tmp_path: Path, mirrors: Path | None = None) -> Workspace:
    return Workspace(tmp_path / "cache", url_template=NO_NETWORK, mirrors_dir=mirrors)


def test_checkout_local_repo_at_each_commit_and_cleanup(tmp_path, source):
    repo, (first, _) = source
    ws = make_ws(tmp_path)
    with ws.checkout(str(repo), first) as path:
        assert (path / "pkg/a.py").read_text() == "A = 1\n"
        assert not (path / "pkg/b.py").exists()
        assert git(path, "rev-parse", "HEAD") == first
        kept = path
    assert not kept.exists()
    with ws.checkout(str(repo)) as path:  # '' = the source's HEAD
        assert (path / "pkg/a.py").read_text() == "A = 2\n"
    listing = git(ws.mirror(str(repo)), "worktree", "list")
    assert len(listing.splitlines()) == 1  # only the bare mirror itself


def test_mirror_is_cloned_once_and_is_bare(tmp_path, source):
    repo, _ = source
    ws = make_ws(tmp_path)
    mirror = ws.mirror(str(repo))
    assert git(mirror, "rev-parse", "--is-bare-repository") == "true"
    marker = mirror / "marker"
    marker.write_text("x")
    assert ws.mirror(str(repo)) == mirror
    assert marker.exists()


def test_short_and_symbolic_commits_resolve(tmp_path, source):
    repo, (first, second) = source
    ws = make_ws(tmp_path)
    assert ws.resolve(str(repo), first[:8]) == first
    assert ws.resolve(str(repo), "main") == second


def test_unknown_commit_is_a_clear_error(tmp_path, source):
    repo, _ = source
    ws = make_ws(tmp_path)
    with (
        pytest.raises(RepoError, match=r"not found.*base_commit"),
        ws.checkout(str(repo), "0" * 40),
    ):
        pass
    with pytest.raises(RepoError, match="invalid commit"):
        ws.resolve(str(repo), "--output=/tmp/x")


def test_missing_repo_is_a_clear_error(tmp_path):
    ws = make_ws(tmp_path)
    with pytest.raises(RepoError, match="repository not found"):
        ws.mirror(str(tmp_path / "no" / "such" / "dir"))
    with pytest.raises(RepoError, match="cloning owner/name"):
        ws.mirror("owner/name")  # not in mirrors, and the template points nowhere


def test_dirty_source_tree_is_refused_for_head_only(tmp_path, source):
    repo, (first, _) = source
    (repo / "pkg/a.py").write_text("A = 99\n")
    ws = make_ws(tmp_path)
    with pytest.raises(RepoError, match=r"uncommitted changes.*pkg/a\.py"):
        ws.resolve(str(repo))
    with ws.checkout(str(repo), first) as path:  # an explicit commit is unambiguous
        assert (path / "pkg/a.py").read_text() == "A = 1\n"


def test_new_commit_in_source_is_fetched_on_demand(tmp_path, source):
    repo, _ = source
    ws = make_ws(tmp_path)
    ws.mirror(str(repo))
    third = commit_files(repo, {"pkg/c.py": "C = 3\n"})
    with ws.checkout(str(repo), third) as path:
        assert (path / "pkg/c.py").read_text() == "C = 3\n"


def test_a_branch_of_a_local_repository_is_read_from_the_repository_not_the_mirror(
    tmp_path, source
):
    repo, (_, second) = source
    ws = make_ws(tmp_path)
    assert ws.resolve(str(repo), "main") == second
    third = commit_files(repo, {"pkg/c.py": "C = 3\n"})
    assert ws.resolve(str(repo), "main") == third
    with ws.checkout(str(repo), "main") as path:
        assert (path / "pkg/c.py").read_text() == "C = 3\n"
    fourth = commit_files(repo, {"pkg/d.py": "D = 4\n"})  # the same workspace asks again
    assert ws.resolve(str(repo), "main") == fourth


def test_restore_puts_back_only_the_files_named(tmp_path, source):
    repo, (first, _) = source
    ws = make_ws(tmp_path)
    with ws.checkout(str(repo), first) as path:
        (path / "pkg/a.py").write_text("A = 5\n")
        (path / "README.md").write_text("changed\n")
        ws.restore(path, [])
        assert (path / "pkg/a.py").read_text() == "A = 5\n"
        ws.restore(path, ["README.md", "pkg/new.py"])  # a file the commit lacks is left
        assert (path / "README.md").read_text() == "hello\n"
        assert (path / "pkg/a.py").read_text() == "A = 5\n"
    odd = 'pkg/caf\u00e9 "quoted".py'
    commit_files(repo, {odd: "ODD = 1\n"})
    with ws.checkout(str(repo), "main") as path:
        (path / odd).write_text("ODD = 2\n")
        ws.restore(path, [odd])
        assert (path / odd).read_text() == "ODD = 1\n"


def test_plain_folder_is_snapshotted_by_content(tmp_path):
    folder = tmp_path / "plain"
    write_files(
        folder,
        {
            "m.py": "x = 1\n",
            ".gitignore": "build/\n",
            "build/out.py": "junk\n",
            ".venv/lib/site.py": "venv\n",
            "pkg/__pycache__/m.cpython-311.pyc": "bytecode",
            "pkg/venv_tools.py": "kept = True\n",
        },
    )
    ws = make_ws(tmp_path)
    sha = ws.resolve(str(folder))
    assert ws.resolve(str(folder)) == sha  # same content, same commit
    with ws.checkout(str(folder)) as path:
        assert (path / "m.py").read_text() == "x = 1\n"
        assert not (path / "build").exists()
        assert not (path / ".venv").exists()
        assert not (path / "pkg" / "__pycache__").exists()
        assert (path / "pkg" / "venv_tools.py").is_file()
    (folder / "m.py").write_text("x = 2\n")
    newer = ws.resolve(str(folder))
    assert newer != sha
    with ws.checkout(str(folder), sha) as path:  # older snapshots stay addressable
        assert (path / "m.py").read_text() == "x = 1\n"


def test_a_folder_snapshot_leaves_out_excluded_paths(tmp_path, source):
    folder = tmp_path / "plain"
    write_files(folder, {"m.py": "x = 1\n", ".meta/example.py": "x = 2\n", "*": "star\n"})
    ws = make_ws(tmp_path)
    sha = ws.resolve(str(folder), exclude=[".meta", "*"])  # "*" names only itself
    with ws.checkout(str(folder), sha) as path:
        assert (path / "m.py").is_file()
        assert not (path / ".meta").exists() and not (path / "*").exists()
    assert sha != ws.resolve(str(folder))
    repo, _ = source
    with pytest.raises(RepoError, match="cannot be left out"):
        ws.resolve(str(repo), exclude=[".meta"])


@pytest.mark.parametrize(
    "layout", ["{o}+{n}/repo", "{o}+{n}", "{o}/{n}.git", "{o}/{n}", "{o}__{n}.git"]
)
def test_mirrors_folder_layouts(tmp_path, source, layout):
    repo, (first, _) = source
    mirrors = tmp_path / "mirrors"
    target = mirrors / layout.format(o="acme", n="widget")
    target.parent.mkdir(parents=True)
    subprocess.run(["git", "clone", "--bare", "--quiet", str(repo), str(target)], check=True)
    assert find_local_mirror(mirrors, "acme/widget") == target
    ws = make_ws(tmp_path, mirrors)
    assert ws.source("acme/widget").kind == "git"
    with ws.checkout("acme/widget", first) as path:
        assert (path / "pkg/a.py").read_text() == "A = 1\n"


def test_git_url_source(tmp_path, source):
    repo, (_, second) = source
    ws = make_ws(tmp_path)
    url = repo.as_uri()
    assert ws.source(url).kind == "url"
    with ws.checkout(url) as path:
        assert git(path, "rev-parse", "HEAD") == second


def test_reset_and_dirty_check(tmp_path, source):
    repo, _ = source
    ws = make_ws(tmp_path)
    with ws.checkout(str(repo)) as path:
        assert not ws.is_dirty(path)
        (path / "pkg/a.py").write_text("changed\n")
        (path / "new.py").write_text("new\n")
        assert ws.is_dirty(path)
        ws.reset(path)
        assert not ws.is_dirty(path)
        assert (path / "pkg/a.py").read_text() == "A = 2\n"
        assert not (path / "new.py").exists()


def test_concurrent_worktrees_of_one_repository(tmp_path, source):
    repo, (first, second) = source
    seen: list[tuple[str, str, Path]] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(6)

    def work(commit: str) -> None:
        try:
            gate.wait()
            # A workspace per thread: nothing but the cache folder is shared.
            with Workspace(tmp_path / "cache", url_template=NO_NETWORK).checkout(
                str(repo), commit
            ) as path:
                seen.append((commit, (path / "pkg/a.py").read_text(), path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in [first, second] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({path for _, _, path in seen}) == 6
    assert {(c, text) for c, text, _ in seen} == {(first, "A = 1\n"), (second, "A = 2\n")}
    assert not any((tmp_path / "cache" / "worktrees").glob("*/*"))


def test_blobs_missing_from_a_partial_mirror_are_left_out(tmp_path):
    source = tmp_path / "src"
    (sha,) = make_repo(source, {"pkg/code.py": "x = 1\n", "data/big.bin": "large data\n"})
    mirrors = tmp_path / "mirrors"
    bare = mirrors / "acme+data" / "repo"
    subprocess.run(
        ["git", "clone", "--bare", "--no-hardlinks", "--quiet", str(source), str(bare)], check=True
    )
    blob = git(bare, "rev-parse", f"{sha}:data/big.bin")
    (bare / "objects" / blob[:2] / blob[2:]).unlink()  # as a size-filtered clone would lack it
    ws = make_ws(tmp_path, mirrors)
    assert ws.missing_files("acme/data", sha) == ["data/big.bin"]
    with ws.checkout("acme/data", sha) as path:
        assert (path / "pkg/code.py").read_text() == "x = 1\n"
        assert not (path / "data/big.bin").exists()
        assert not ws.is_dirty(path)
        (path / "pkg/code.py").write_text("changed\n")
        ws.reset(path)
        assert (path / "pkg/code.py").read_text() == "x = 1\n"


def test_a_partial_mirror_serves_every_later_checkout(tmp_path):
    """The first sparse checkout moves the mirror's core.bare into config.worktree (git turns
    on extensions.worktreeConfig); the mirror must still read as bare, and worktrees made
    before and after must stay work trees."""
    source = tmp_path / "src"
    first, second = make_repo(
        source,
        {"pkg/code.py": "x = 1\n", "data/big.bin": "large data\n"},
        {"pkg/code.py": "x = 2\n", "data/big.bin": None},  # nothing missing at this one
    )
    mirrors = tmp_path / "mirrors"
    bare = mirrors / "acme+data" / "repo"
    subprocess.run(
        ["git", "clone", "--bare", "--no-hardlinks", "--quiet", str(source), str(bare)], check=True
    )
    blob = git(bare, "rev-parse", f"{first}:data/big.bin")
    (bare / "objects" / blob[:2] / blob[2:]).unlink()
    ws = make_ws(tmp_path, mirrors)
    with ws.checkout("acme/data", second) as early:
        with ws.checkout("acme/data", first) as path:
            assert not (path / "data/big.bin").exists()
        for commit, text in [(first, "x = 1\n"), (second, "x = 2\n")]:
            assert ws.resolve("acme/data", commit) == commit
            with ws.checkout("acme/data", commit) as again:
                assert (again / "pkg/code.py").read_text() == text
                assert not ws.is_dirty(again)
        (early / "pkg/code.py").write_text("changed\n")
        ws.reset(early)
        assert (early / "pkg/code.py").read_text() == "x = 2\n"


def test_a_snapshot_is_the_commit_git_commit_tree_makes(tmp_path):
    """The snapshot commit is content-addressed the way git itself addresses it, so mirrors
    and index caches made by earlier versions keep their ids."""
    folder = tmp_path / "plain"
    write_files(folder, {"m.py": "x = 1\n", "pkg/b.py": "y = 2\n"})
    ws = make_ws(tmp_path)
    sha = ws.resolve(str(folder))
    mirror = ws.mirror(str(folder))
    tree = git(mirror, "rev-parse", f"{sha}^{{tree}}")
    env = {**os.environ, **SNAPSHOT_IDENTITY}
    by_git = subprocess.run(
        ["git", "--git-dir", str(mirror), "commit-tree", tree, "-m", "agentless snapshot"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert by_git == sha
    assert git(mirror, "symbolic-ref", "HEAD") == "refs/heads/snapshot"
    assert git(mirror, "rev-parse", f"refs/snapshots/{sha}", "snapshot") == f"{sha}\n{sha}"


def test_a_callers_git_variables_do_not_redirect_the_workspace(tmp_path, source, monkeypatch):
    """Run from a git hook (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE set for another repository),
    every operation still works on the workspace's own repositories."""
    repo, (first, second) = source
    other = tmp_path / "other"
    (other_sha,) = make_repo(other, {"other.txt": "other\n"})
    ws = make_ws(tmp_path)
    ws.mirror(str(repo))
    third = commit_files(repo, {"pkg/c.py": "C = 1\n"})
    fresh = Workspace(tmp_path / "fresh", url_template=NO_NETWORK)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    assert ws.resolve(str(repo), third) == third  # fetched into the mirror made before
    assert fresh.resolve(str(repo), "main") == third  # cloned
    assert ws.resolve(str(repo), second) == second
    with ws.checkout(str(repo), first) as path:
        assert (path / "pkg/a.py").read_text() == "A = 1\n"
        (path / "pkg/a.py").write_text("changed\n")
        assert ws.is_dirty(path)
        ws.reset(path)
        assert not ws.is_dirty(path)
        assert (path / "pkg/a.py").read_text() == "A = 1\n"
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name)
    assert git(other, "rev-parse", "HEAD") == other_sha
    assert git(other, "status", "--porcelain") == ""
    assert len(git(other, "worktree", "list").splitlines()) == 1


def test_a_users_global_hooks_never_run_in_our_repositories(tmp_path, source, monkeypatch):
    # A global core.hooksPath (a company's or a hook manager's) applies to every repository:
    # its hooks would run, and write files, in our mirrors and worktrees.
    repo, (first, _) = source
    hooks, ran = tmp_path / "hooks", tmp_path / "hooks-ran.txt"
    hooks.mkdir()
    for name in ("post-checkout", "post-commit", "reference-transaction", "post-index-change"):
        (hooks / name).write_text(f"#!/bin/sh\necho {name} >> {ran}\n")
        (hooks / name).chmod(0o755)
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    git(repo, "checkout", "-q", first)  # the hooks do run for git itself
    assert ran.read_text()
    ran.unlink()
    folder = tmp_path / "plain"
    write_files(folder, {"m.py": "x = 1\n"})
    ws = make_ws(tmp_path)
    for spec in (str(repo), str(folder)):
        with ws.checkout(spec) as path:
            (path / "new.py").write_text("y = 1\n")
            ws.reset(path)
    assert not ran.exists(), ran.read_text()


def test_a_users_line_ending_conversion_never_changes_our_snapshots_or_checkouts(
    tmp_path, monkeypatch
):
    # core.autocrlf=true (set on Linux by mistake, or inherited from a Windows habit) turns
    # LF into CRLF on checkout and CRLF into LF when a folder is staged: the code the model
    # sees, the patches and the tests would all differ from the task's bytes.
    config = tmp_path / "gitconfig"
    config.write_text("[core]\n\tautocrlf = true\n")
    repo = tmp_path / "src"
    make_repo(repo, {"lf.py": "a = 1\nb = 2\n"})
    folder = tmp_path / "plain"
    write_files(folder, {"crlf.py": b"a = 1\r\nb = 2\r\n", "lf.py": "c = 3\n"})
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    ws = make_ws(tmp_path)
    with ws.checkout(str(repo)) as path:
        assert (path / "lf.py").read_bytes() == b"a = 1\nb = 2\n"
    with ws.checkout(str(folder)) as path:
        assert (path / "crlf.py").read_bytes() == b"a = 1\r\nb = 2\r\n"
        assert (path / "lf.py").read_bytes() == b"c = 3\n"
        assert not ws.is_dirty(path)


def test_a_folder_inside_another_repository_is_never_reset_through_it(tmp_path, source):
    # A worktree that lost its .git, inside a user's own repository (a clone under their
    # project, a temporary folder in their checkout): resetting and cleaning it must not
    # reach the outer repository and delete its untracked and ignored files.
    outer = tmp_path / "outer"
    make_repo(outer, {"tracked.py": "x = 1\n", ".gitignore": ".venv/\n"})
    write_files(outer, {".venv/keep.txt": "ignored\n", "notes.txt": "untracked\n"})
    (outer / "tracked.py").write_text("x = 2\n")
    inner = outer / "work" / "tree"
    write_files(inner, {"a.py": "a = 1\n"})
    ws = make_ws(tmp_path)
    with pytest.raises(RepoError, match="not a git repository"):
        ws.reset(inner)
    with pytest.raises(RepoError, match="not a git repository"):
        ws.is_dirty(inner)
    assert (outer / ".venv" / "keep.txt").is_file()
    assert (outer / "notes.txt").is_file()
    assert (outer / "tracked.py").read_text() == "x = 2\n"
    assert (inner / "a.py").is_file()


def test_git_failures_leave_as_repo_errors_naming_the_step(tmp_path, source):
    repo, _ = source
    ws = make_ws(tmp_path)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(RepoError, match=r"^resetting .*plain failed: fatal: not a git repository"):
        ws.reset(plain)
    with ws.checkout(str(repo)) as path:
        with pytest.raises(RepoError, match=r"^listing files of no-such-commit in .* failed"):
            ws.restore(path, ["README.md"], commit="no-such-commit")
        with pytest.raises(RepoError, match=r"^resetting .* failed: fatal: .*'no-such-commit'"):
            ws.reset(path, "no-such-commit")


def test_a_bare_mirror_without_a_config_file_is_read_in_place(tmp_path, source):
    """Mirrors folders hold bare repositories with only HEAD, objects, refs and packed-refs
    (as some fetch scripts leave them): a branch and HEAD are read from them directly."""
    repo, (first, second) = source
    mirrors = tmp_path / "mirrors"
    target = mirrors / "acme+widget" / "repo"
    subprocess.run(["git", "clone", "--bare", "--quiet", str(repo), str(target)], check=True)
    (target / "config").unlink()
    ws = make_ws(tmp_path, mirrors)
    assert ws.resolve("acme/widget", "main") == second
    assert ws.resolve("acme/widget") == second
    assert ws.missing_files("acme/widget", first) == []
    with ws.checkout("acme/widget", first) as path:
        assert (path / "pkg/a.py").read_text() == "A = 1\n"
