"""The exercise benchmark end to end: exercises written here, a scripted model, real tests.

Six exercises in the Exercism layout, each scripted to one story — solved on try 1, solved on
try 2 after seeing the test output, fixed by a reflection on a malformed edit, never solved,
hanging tests, a reply that edits the test file — run through the real command path (run
store, edit engine, sandbox, pytest), and every metric checked against what the story means.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from exercise_stories import GOLD, STORIES, TIME_LIMIT, Run, result_of, run, write_stories

from agentless.cli import main
from agentless.store import Store


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The six stories run once (the hanging one costs TIME_LIMIT); tests read the outcome."""
    tmp = tmp_path_factory.mktemp("stories")
    root = write_stories(tmp / "bench")
    out = tmp / "run"
    metrics, requests = run(root, tmp, out)
    return Run(root, out, metrics, requests)


def test_six_stories_each_count_in_every_metric(stories: Run) -> None:
    metrics, requests, out = stories.metrics, stories.requests, stories.out

    outcome = {r["exercise"]: r["passed_on_try"] for r in metrics["per_exercise"]}
    assert outcome == {
        "python/adder": 1,
        "python/cheater": 2,
        "python/doubler": 1,
        "python/greeter": 2,
        "python/never": None,
        "python/sleeper": 2,
    }
    assert metrics["cases"] == 6
    assert (metrics["passed_1"], metrics["passed_2"]) == (2, 5)
    assert (metrics["pass_rate_1"], metrics["pass_rate_2"]) == (33.3, 83.3)
    assert metrics["malformed_responses"] == 1  # doubler's first reply
    assert metrics["cases_with_malformed"] == 1
    assert metrics["percent_cases_well_formed"] == 83.3
    assert metrics["reflections"] == 1
    assert metrics["syntax_errors"] == 1  # never, try 1
    assert metrics["indentation_errors"] == 1  # never, try 2
    assert metrics["lazy_comments"] == 1  # never, try 2
    assert metrics["test_timeouts"] == 1  # sleeper, try 1
    assert metrics["test_edits"] == 1  # cheater, try 1
    # adder 1, greeter 2, doubler 2 (reply + reflection), never 2, sleeper 2, cheater 2
    assert metrics["replies"] == len(requests) == 11
    assert metrics["test_runs"] == 1 + 2 + 1 + 2 + 2 + 2
    assert metrics["prompt_tokens"] > 0 and metrics["completion_tokens"] > 0
    assert metrics["cost"] is None  # no price configured: unknown, never 0
    assert metrics["seconds_per_case"] > 0
    assert metrics["by_language"]["python"]["pass_rate_2"] == 83.3
    assert metrics["plot"] == {
        "tries": [1, 2],
        "series": {"all": [33.3, 83.3], "python": [33.3, 83.3]},
    }
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_each_story_happens_as_scripted(stories: Run) -> None:
    requests, out = stories.requests, stories.out
    by_name = {
        name: [r for r in requests if f"# Exercise: {name} (Python)" in r.messages[1]["content"]]
        for name in STORIES
    }

    # greeter: try 2 carries the failing assertion, without timings or the work folder's path.
    retry = by_name["greeter"][1].messages[-1]["content"]
    assert "Hello, World" in retry and "AssertionError" in retry
    assert "return 'Hello, World'" in retry  # the files as they are now
    assert str(out) not in retry and " in 0." not in retry

    # doubler: the reflection carries the edit engine's feedback about the unmatched SEARCH.
    reflection = by_name["doubler"][1].messages[-1]["content"]
    assert "return None" in reflection and "doubler.py" in reflection

    # sleeper: the timeout is what try 2 is told about.
    sleeper = result_of(out, "sleeper")
    assert sleeper.tries[0].test is not None and sleeper.tries[0].test.timed_out
    assert f"stopped after {TIME_LIMIT:g} seconds" in by_name["sleeper"][1].messages[-1]["content"]

    # cheater: the test file edit was never written; the real test ran and failed.
    cheater = result_of(out, "cheater")
    assert cheater.tries[0].replies[0].test_edits == ("cheater_test.py",)
    assert not cheater.tries[0].passed
    work = out / "python__cheater" / "cheater"
    assert "assert answer(3) == 9" in (work / "cheater_test.py").read_text()
    assert "return x * x" in (work / "cheater.py").read_text()

    # never: a syntax error, then an indentation error with a placeholder comment.
    never = result_of(out, "never")
    assert [t.test.syntax_error for t in never.tries if t.test] == [True, False]
    assert [t.test.indentation_error for t in never.tries if t.test] == [False, True]

    # Prompts start with the same system message (servers' prefix caches serve it).
    systems = {r.messages[0]["content"] for r in requests}
    assert len(systems) == 1 and "SEARCH" in systems.pop()


def test_the_reference_solution_reaches_no_prompt_copy_or_file(stories: Run) -> None:
    requests, out = stories.requests, stories.out
    assert requests and not any(GOLD in json.dumps(r.body) for r in requests)
    assert not any(".meta" in json.dumps(r.body) for r in requests)
    for path in out.rglob("*"):
        assert ".meta" not in path.parts
        if path.is_file() and path.suffix in (".json", ".py"):
            assert GOLD not in path.read_text()
    with Store.for_run(out) as store:
        assert not any(GOLD in json.dumps(call.request) for call in store.calls())


def test_report_shows_the_benchmark_metrics_and_the_pass_rate_plot(
    stories: Run, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    shutil.copytree(stories.out, out)
    result = CliRunner().invoke(main, ["report", str(out), "--html"])
    assert result.exit_code == 0, result.output
    text = (out / "report.md").read_text()
    assert "6 task(s): 6 done, 0 failed, 0 unfinished" in text
    assert "## Funnel" not in text  # repairs' funnel: nothing to show for exercises
    # language, cases, pass 1, pass 2, well-formed, malformed, syntax, indent, lazy,
    # timeouts, test edits: each story counted once where it belongs.
    row = "| python | 6 | 33.3% | 83.3% | 83.3% | 1 | 1 | 1 | 1 | 1 | 1 |"
    assert row in text and "| **all** | 6 | 33.3% | 83.3% |" in text
    assert "| python__sleeper | done | - | passed on try 2 (2 replies, 1 timed out;" in text
    page = (out / "report.html").read_text()
    assert "Pass rate by try and by language" in page and "Funnel" not in page
    assert page.count("<svg") == 2  # the pass rates, tokens per task
    assert "pass rate by try 33.3% / 83.3%" in page
    assert "<td>python</td><td>6</td><td>33.3%</td><td>83.3%</td>" in page
    assert 'id="task-python__cheater"' in page
    assert "test files edited (not written): cheater_test.py" in page
    assert "(timed out)" in page and "indentation error" in page


def test_a_second_run_resumes_without_calling_the_model(stories: Run, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(stories.out, out)
    again, requests = run(stories.root, tmp_path, out)
    assert requests == []
    assert again == stories.metrics
