"""Filtering, AST normalization and majority voting."""

from __future__ import annotations

from typing import Any

from agentless.select import (
    Candidate,
    filter_candidates,
    normalize_python,
    patch_key,
    second_try_targets,
    select,
)
from agentless.validate import PatchVerdict

OLD = 'def f(x):\n    """Doc."""\n    return x + 1\n'


def cand(index: int, new: str | None) -> Candidate:
    patch = "" if new is None else f"diff for {index}"
    files = {} if new is None else {"m.py": new}
    return Candidate(index=index, patch=patch, new_files=files, old_files={"m.py": OLD})


def checked(*found: tuple[Candidate, PatchVerdict]) -> dict[str, PatchVerdict]:
    """The verdicts by vote key, as ``validate.check`` gives them: one per distinct patch."""
    verdicts: dict[str, PatchVerdict] = {}
    for candidate, verdict in found:
        assert verdicts.setdefault(patch_key(candidate), verdict) == verdict
    return verdicts


def verdict(**fields: Any) -> PatchVerdict:
    return PatchVerdict(**fields)


def test_normalization_ignores_comments_docstrings_and_formatting() -> None:
    a = 'def f(x):\n    """Other doc."""\n    # comment\n    return (x+2)\n'
    b = "def f( x ):\n    return x + 2  # trailing\n"
    assert normalize_python(a) == normalize_python(b)
    assert normalize_python("def f(:\n") is None


def test_empty_whitespace_and_syntax_breaking_are_dropped() -> None:
    candidates = [
        cand(0, None),
        cand(1, OLD.replace("return x + 1", "return x + 1  # same")),
        cand(2, "def f(x):\n    return x +\n"),
        cand(3, "def f(x):\n    return x - 1\n"),
    ]
    result = select(candidates)
    assert result.chosen is candidates[3]
    assert candidates[0].reason == "empty patch"
    assert "whitespace" in candidates[1].reason
    assert "syntax" in candidates[2].reason
    assert not any(c.kept for c in candidates[:3])


def test_a_file_this_python_cannot_parse_before_either_is_not_blamed_on_the_patch() -> None:
    # Python 2 (or newer-than-us) syntax: the check says nothing about such a file.
    old = 'print "total", add(1, 2)\n'
    fixed = Candidate(
        index=0,
        patch="diff",
        new_files={"legacy.py": 'print "total", add(2, 2)\n'},
        old_files={"legacy.py": old},
    )
    assert select([fixed]).chosen is fixed
    broken_new_file = Candidate(index=1, patch="diff", new_files={"new.py": "def f(:\n"})
    assert select([broken_new_file]).chosen is None
    assert "syntax" in broken_new_file.reason


def test_majority_vote_counts_equivalent_patches_together() -> None:
    minus = "def f(x):\n    return x - 1\n"
    minus_reformatted = 'def f(x):\n    """Doc."""\n    return (x - 1)  # fixed\n'
    candidates = [
        cand(0, "def f(x):\n    return x * 2\n"),
        cand(1, minus),
        cand(2, minus_reformatted),
    ]
    result = select(candidates)
    assert result.chosen is candidates[1]
    assert result.chosen.votes == 2
    assert candidates[2].reason == "same patch as the chosen one"
    assert candidates[0].reason == "outvoted"


def test_ties_go_to_the_earliest_sample() -> None:
    candidates = [cand(5, "def f(x):\n    return 0\n"), cand(2, "def f(x):\n    return 1\n")]
    assert select(candidates).chosen is candidates[1]


def test_validation_narrows_before_voting() -> None:
    wrong = "def f(x):\n    return x * 2\n"
    right_but_breaking = "def f(x):\n    return x - 1 if x else 1\n"
    right = "def f(x):\n    return x - 1\n"
    candidates = [cand(0, wrong), cand(1, wrong), cand(2, right_but_breaking), cand(3, right)]
    verdicts = checked(
        (candidates[0], verdict(regression_failures=0, reproduction_passed=False)),
        (candidates[2], verdict(regression_failures=1, reproduction_passed=True)),
        (candidates[3], verdict(regression_failures=0, reproduction_passed=True)),
    )
    result = select(candidates, verdicts)
    assert result.chosen is candidates[3]
    # Selection reads the verdicts where they are, and hands back the same objects.
    assert result.evidence(candidates[3]) is verdicts[candidates[3].key]
    assert result.evidence(cand(9, None)).regression_failures is None
    assert candidates[0].reason == "reproduction test fails"
    assert candidates[2].reason == "breaks 1 test that passed before"


def test_a_patch_that_breaks_a_passing_test_never_beats_one_that_breaks_none() -> None:
    breaking = "def f(x):\n    return x * 2\n"
    harmless = "def f(x):\n    return x + 0\n"
    votes_for_breaking = [cand(i, breaking) for i in range(3)]
    lone = cand(3, harmless)
    odd = ("tests/test_f.py::test_odd",)
    verdicts = checked(
        (
            votes_for_breaking[0],
            verdict(regression_failures=1, broken=odd, fixed=1, reproduction_passed=True),
        ),
        (lone, verdict(regression_failures=0, fixed=0, reproduction_passed=False)),
    )
    result = select([*votes_for_breaking, lone], verdicts)
    assert result.chosen is lone
    assert result.breaks == 0
    assert votes_for_breaking[0].reason == (
        "breaks 1 test that passed before: tests/test_f.py::test_odd"
    )


def test_when_every_candidate_breaks_tests_the_policy_decides() -> None:
    def pool() -> list[Candidate]:
        return [cand(0, "def f(x):\n    return 1\n"), cand(1, "def f(x):\n    return 2\n")]

    first, second = pool()
    verdicts = checked(
        (first, verdict(regression_failures=2)), (second, verdict(regression_failures=1))
    )
    strict = select(pool(), verdicts, allow_breaking=False)  # a user's repository
    assert strict.chosen is None and strict.patch == ""
    assert (
        "no patch chosen (least bad: #1, which breaks 1 test that passed before)"
        in (strict.steps[-1])
    )
    lenient = select(pool(), verdicts, allow_breaking=True)  # dataset rows
    assert lenient.chosen is not None and lenient.chosen.index == 1
    assert lenient.breaks == 1
    assert lenient.chosen.reason == "chosen with 1 vote(s); breaks 1 test that passed before"


def test_among_harmless_patches_the_one_fixing_most_failing_tests_wins() -> None:
    candidates = [
        cand(0, "def f(x):\n    return 1\n"),
        cand(1, "def f(x):\n    return 1\n"),
        cand(2, "def f(x):\n    return 2\n"),
    ]
    verdicts = checked(
        (candidates[0], verdict(regression_failures=0, fixed=0)),
        (candidates[2], verdict(regression_failures=0, fixed=1)),
    )
    result = select(candidates, verdicts)
    assert result.chosen is candidates[2]
    assert candidates[0].reason == "fixes fewer than 1 failing test(s)"


def test_a_step_nobody_passes_is_skipped_not_fatal() -> None:
    candidates = [
        cand(0, "def f(x):\n    return 0\n"),
        cand(1, "def f(x):\n    return 0\n"),
        cand(2, "def f(x):\n    return 1\n"),
    ]
    verdicts = checked(
        (candidates[0], verdict(reproduction_passed=False)),
        (candidates[2], verdict(reproduction_passed=False)),
    )
    result = select(candidates, verdicts)
    assert result.chosen is candidates[0]
    assert any("skipped" in step for step in result.steps)


def test_nothing_usable_selects_nothing() -> None:
    result = select([cand(0, None)])
    assert result.chosen is None
    assert result.patch == ""


def test_a_file_changed_only_in_form_does_not_split_the_vote() -> None:
    minus = "def f(x):\n    return x - 1\n"
    other = "VALUE = 1\n"
    plus_comment = Candidate(
        index=2,
        patch="diff 2",
        new_files={"m.py": minus, "n.py": "VALUE = 1  # one\n"},
        old_files={"m.py": OLD, "n.py": other},
    )
    candidates = [cand(0, "def f(x):\n    return x * 2\n"), cand(1, minus), plus_comment]
    result = select(candidates)
    assert candidates[1].key == plus_comment.key
    assert result.chosen is candidates[1] and candidates[1].votes == 2


def test_a_patch_no_check_shows_fixing_anything_is_refused_for_a_users_repository() -> None:
    def pool() -> list[Candidate]:
        return [cand(0, "def f(x):\n    return 1\n"), cand(1, "def f(x):\n    return 1\n")]

    # The even-length test failed before every patch and still fails after each.
    still = ("tests/test_f.py::test_even",)
    verdicts = checked((pool()[0], verdict(regression_failures=0, fixed=0, still_failing=still)))
    strict = select(pool(), verdicts, require_evidence=True)
    assert strict.chosen is None
    assert "no patch chosen (most voted: #0)" in strict.steps[-1]
    lenient = select(pool(), verdicts)
    assert lenient.chosen is not None
    assert lenient.chosen.reason.endswith(
        "no failing test passes with it and no reproduction script shows the issue fixed"
    )
    # Nothing failed before and there was no script: no check could have shown a fix.
    quiet = [cand(0, "def f(x):\n    return 1\n")]
    calm = checked((quiet[0], verdict(regression_failures=0, fixed=0)))
    assert select(quiet, calm, require_evidence=True).chosen is quiet[0]


def test_second_tries_go_to_distinct_promising_patches_and_not_when_one_is_clean() -> None:
    odd = ("tests/test_f.py::test_odd",)
    even = ("tests/test_f.py::test_even",)
    breaking = "def f(x):\n    return 2\n"
    candidates = [
        cand(0, breaking),
        cand(1, breaking),
        cand(2, "def f(x):\n    return 3\n"),
        cand(3, "def f(x):\n    return 4\n"),
        cand(4, None),
    ]
    verdicts = checked(
        (candidates[0], verdict(regression_failures=1, fixed=1, broken=odd)),
        (candidates[2], verdict(regression_failures=0, fixed=0, still_failing=even)),
        (candidates[3], verdict(regression_failures=2, fixed=0, broken=odd + even)),
    )
    filter_candidates(candidates)
    # One per distinct patch; fixing a failing test ranks first, then fewer broken tests.
    assert [c.index for c in second_try_targets(candidates, verdicts, 5)] == [0, 2, 3]
    assert [c.index for c in second_try_targets(candidates, verdicts, 1)] == [0]
    assert second_try_targets(candidates, verdicts, 0) == []
    clean = cand(5, "def f(x):\n    return 5\n")
    filter_candidates([clean])
    verdicts |= checked((clean, verdict(regression_failures=0, fixed=1)))
    assert second_try_targets([*candidates, clean], verdicts, 5) == []
    # Nothing validated: nothing to report back.
    assert second_try_targets(candidates, {}, 5) == []
