"""The exercise benchmark's parts: folders, languages, output cleaning, reference replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentless.edits import apply_reply
from agentless.errors import TaskError
from agentless.exercises import LANGUAGES
from agentless.exercises._languages import Java, JavaScript, Rust
from agentless.exercises._testrun import clean_output, trim
from agentless.exercises._workspace import WorkCopy
from agentless.tasks import find_exercises, read_exercise
from agentless.testing import reference_files, reference_reply


def make(folder: Path, files: dict[str, str], roles: dict[str, list[str]]) -> Path:
    for rel, text in {**files, ".docs/instructions.md": "Do it."}.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    (folder / ".meta").mkdir(exist_ok=True)
    (folder / ".meta" / "config.json").write_text(json.dumps({"files": roles}))
    return folder


CPP_STUB_H = "#pragma once\n\nnamespace clock_ {\nint hours();\n}  // namespace clock_\n"
CPP_STUB_CPP = '#include "clock.h"\n\nnamespace clock_ {\n\nint hours() { return 0; }\n\n}\n'
CPP_REF_H = (
    "#pragma once\n#include <string>\n\nnamespace clock_ {\nint hours();\n"
    "std::string show(int h);\n}  // namespace clock_\n"
)
CPP_REF_CPP = (
    '#include "clock.h"\n\nnamespace clock_ {\n\nint hours() { return 12; }\n\n'
    "std::string show(int h) { return std::to_string(h); }\n\n}\n"
)


@pytest.fixture
def cpp(tmp_path: Path) -> Path:
    files = {
        "clock.h": CPP_STUB_H,
        "clock.cpp": CPP_STUB_CPP,
        "clock_test.cpp": "// tests\n",
        ".meta/example.h": CPP_REF_H,
        ".meta/example.cpp": CPP_REF_CPP,
        ".meta/helper.cpp": "int helper() { return 1; }",  # no final newline
    }
    roles = {
        "solution": ["clock.cpp", "clock.h"],
        "test": ["clock_test.cpp"],
        "example": [".meta/example.cpp", ".meta/example.h", ".meta/helper.cpp"],
    }
    return make(tmp_path / "cpp" / "clock", files, roles)


def test_an_exercise_folder_is_read_with_all_its_files(cpp: Path) -> None:
    exercise = read_exercise(cpp)
    assert exercise.id == "cpp/clock" and exercise.instance_id == "cpp__clock"
    assert exercise.solution == ("clock.cpp", "clock.h")
    assert exercise.tests == ("clock_test.cpp",)
    assert exercise.instructions == "Do it."


def test_names_repeat_across_tracks_but_ids_do_not(tmp_path: Path) -> None:
    for lang, ext in (("python", "py"), ("go", "go")):
        make(
            tmp_path / lang / "bob",
            {f"bob.{ext}": "", f"bob_test.{ext}": ""},
            {"solution": [f"bob.{ext}"], "test": [f"bob_test.{ext}"]},
        )
    assert [e.id for e in find_exercises(tmp_path)] == ["go/bob", "python/bob"]


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ({"test": ["t.py"]}, "no files.solution"),
        ({"solution": ["s.py"]}, "no files.test"),
        ({"solution": ["gone.py"], "test": ["t.py"]}, "gone.py"),
        ({"solution": ["../s.py"], "test": ["t.py"]}, "not a path inside"),
        ({"solution": ["s.cobol"], "test": ["t.py"]}, "cannot tell the language"),
    ],
)
def test_a_broken_exercise_says_what_is_wrong(
    tmp_path: Path, roles: dict[str, list[str]], message: str
) -> None:
    folder = make(tmp_path / "ex", {"s.py": "", "t.py": "", "s.cobol": ""}, roles)
    with pytest.raises(TaskError, match=message):
        read_exercise(folder)


@pytest.mark.parametrize("fmt", ["whole", "diff", "udiff"])
def test_reference_replies_rebuild_the_reference_from_the_stub(cpp: Path, fmt: str) -> None:
    exercise = read_exercise(cpp)
    stubs = {p: (cpp / p).read_text() for p in (*exercise.solution, *exercise.tests)}
    result = apply_reply(reference_reply(exercise, fmt), stubs, fmt)
    assert result.ok, result.feedback
    # Only a unified diff can say that a file has no final newline.
    helper = "int helper() { return 1; }" + ("" if fmt == "udiff" else "\n")
    assert result.files == {"clock.cpp": CPP_REF_CPP, "clock.h": CPP_REF_H, "helper.cpp": helper}


def test_reference_search_blocks_cover_only_the_changed_regions(tmp_path: Path) -> None:
    stub = "".join(f"line_{n} = {n}\n" for n in range(40))
    reference = stub.replace("line_10 = 10", "line_10 = 0").replace("line_30 = 30", "line_30 = 0")
    folder = make(
        tmp_path / "python" / "lines",
        {"lines.py": stub, "lines_test.py": "", ".meta/example.py": reference},
        {"solution": ["lines.py"], "test": ["lines_test.py"], "example": [".meta/example.py"]},
    )
    reply = reference_reply(read_exercise(folder), "diff")
    assert reply.count("<<<<<<< SEARCH") == 2
    assert "line_0 = 0" not in reply and "line_20 = 20" not in reply
    assert apply_reply(reply, {"lines.py": stub}, "diff").files == {"lines.py": reference}


def test_reference_files_pair_by_name_then_by_extension(cpp: Path) -> None:
    assert sorted(reference_files(read_exercise(cpp))) == ["clock.cpp", "clock.h", "helper.cpp"]


def test_the_work_copy_leaves_out_the_reference_and_guards_the_rest(
    cpp: Path, tmp_path: Path
) -> None:
    (cpp / ".approaches").mkdir()
    (cpp / ".approaches" / "snippet.txt").write_text("a way to solve it")
    work = WorkCopy.create(read_exercise(cpp), tmp_path / "work")
    assert not (work.path / ".meta").exists() and not (work.path / ".approaches").exists()
    work.protect()
    assert work.protected == {"clock_test.cpp", ".docs/instructions.md"}
    work.write({"clock_test.cpp": "// cheat\n", "clock.cpp": "// mine\n"})
    assert (work.path / "clock_test.cpp").read_text() == "// tests\n"  # never written
    (work.path / "clock_test.cpp").write_text("// changed by a test run\n")
    (work.path / ".docs" / "instructions.md").unlink()
    assert work.restore() == [".docs/instructions.md", "clock_test.cpp"]
    assert (work.path / "clock_test.cpp").read_text() == "// tests\n"
    assert (work.path / "clock.cpp").read_text() == "// mine\n"
    assert work.restore() == []


def test_output_is_cleaned_of_timings_paths_and_addresses(tmp_path: Path) -> None:
    work = tmp_path / "work"
    raw = (
        f"rootdir: {work}\n"
        f"{work}/bowling_test.py:12: AssertionError\n"
        "E   <Game object at 0x7f3a2b1c9d00>\n"
        "/tmp/agentless-sbx-abc123/x.py:3: note\n"
        "1 failed, 2 passed in 0.12s\n"
        "--- FAIL: TestScore (0.00s)\n"
        "FAIL\tbowling\t0.005s\n"
        "  ✕ scores a strike (5 ms)\n"
        "Time:        1.234 s\n"
        "test result: FAILED. 1 passed; 1 failed; finished in 0.01s\n"
        "Test run finished after 35 ms\n"
    )
    assert clean_output(raw, [work]) == (
        "rootdir: .\n"
        "bowling_test.py:12: AssertionError\n"
        "E   <Game object at 0x…>\n"
        "$TMPDIR/x.py:3: note\n"
        "1 failed, 2 passed in <time>\n"
        "--- FAIL: TestScore (<time>)\n"
        "FAIL\tbowling\t<time>\n"
        "  ✕ scores a strike (<time>)\n"
        "Time:        <time>\n"
        "test result: FAILED. 1 passed; 1 failed; finished in <time>\n"
        "Test run finished after <time>\n"
    )


def test_long_output_keeps_its_head_and_tail() -> None:
    text = "".join(f"line {n}\n" for n in range(1000))
    short = trim(text, 600)
    assert len(short) < 700
    assert short.startswith("line 0\n") and short.endswith("line 999\n")
    assert "characters of output left out" in short
    assert trim("short\n", 600) == "short\n"


def test_tests_a_track_ships_switched_off_are_switched_on(tmp_path: Path) -> None:
    js = make(
        tmp_path / "js" / "bob",
        {"bob.js": "", "bob.spec.js": "test('a', f);\nxtest('b', f);\nxit('c', f);\n"},
        {"solution": ["bob.js"], "test": ["bob.spec.js"]},
    )
    JavaScript(tmp_path).prepare(js, read_exercise(js))
    assert (js / "bob.spec.js").read_text() == "test('a', f);\ntest('b', f);\nit('c', f);\n"
    test = '    @Disabled("Remove to run test")\n    @Test\n    void a() {}\n    @Disabled\n    @Test\n'
    java = make(
        tmp_path / "java" / "bob",
        {"src/main/java/Bob.java": "", "src/test/java/BobTest.java": test},
        {"solution": ["src/main/java/Bob.java"], "test": ["src/test/java/BobTest.java"]},
    )
    Java(tmp_path).prepare(java, read_exercise(java))
    assert (java / "src/test/java/BobTest.java").read_text() == (
        "    @Test\n    void a() {}\n    @Test\n"
    )


def test_an_exercise_needing_what_no_registry_has_is_reported_with_the_reason(
    tmp_path: Path,
) -> None:
    gradle = 'dependencies {\n    implementation "io.reactivex.rxjava2:rxjava:2.2.12"\n}\n'
    java = make(
        tmp_path / "java" / "hangman",
        {"src/main/java/H.java": "", "src/test/java/HTest.java": "", "build.gradle": gradle},
        {"solution": ["src/main/java/H.java"], "test": ["src/test/java/HTest.java"]},
    )
    setup = Java(tmp_path).setup(read_exercise(java))
    assert "io.reactivex.rxjava2:rxjava:2.2.12" in setup.unavailable
    manifest = '[package]\nname = "x"\n\n[dependencies]\nno_such_crate_here = "1"\n'
    rust = make(
        tmp_path / "rust" / "x",
        {"src/lib.rs": "", "tests/x.rs": "", "Cargo.toml": manifest},
        {"solution": ["src/lib.rs", "Cargo.toml"], "test": ["tests/x.rs"]},
    )
    assert "no_such_crate_here" in Rust(tmp_path).setup(read_exercise(rust)).unavailable


def test_a_missing_toolchain_is_reported_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no tools at all
    assert JavaScript(tmp_path).toolchain() == "node, npm not found on PATH"
    assert "apt-get install golang" in LANGUAGES["go"](tmp_path).toolchain()
    assert "apt-get install cmake g++" in LANGUAGES["cpp"](tmp_path).toolchain()
    missing = LANGUAGES["python"](tmp_path, python=tmp_path / "no-python").toolchain()
    assert missing.startswith("cannot run")
