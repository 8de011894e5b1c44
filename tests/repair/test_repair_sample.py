"""Repair sampling against the scripted loopback model server."""

from __future__ import annotations

from agentless.config import RepairConfig
from agentless.model import OpenAICompatibleModel
from agentless.repair import Window, generate_repairs, repair_messages
from agentless.testing import ScriptedServer

CODE = "def median(values):\n    ordered = sorted(values)\n    return ordered[len(ordered) // 2]\n"
FILES = {"stats/core.py": CODE, "stats/other.py": "X = 1\n"}
LOCATIONS = [{"stats/core.py": [(1, 3)]}]

GOOD = """Fix:

stats/core.py
```python
<<<<<<< SEARCH
    return ordered[len(ordered) // 2]
=======
    mid = len(ordered) // 2
    if len(ordered) % 2 == 0:
        return (ordered[mid - 1] + ordered[mid]) / 2
    return ordered[mid]
>>>>>>> REPLACE
```
"""
BAD = GOOD.replace("return ordered[len(ordered) // 2]\n=", "return ordered[len(ordered) / 2]\n=")


def fast_model(srv: ScriptedServer) -> OpenAICompatibleModel:
    return OpenAICompatibleModel("m", srv.url, backoff_base=0.01, max_attempts=2)


def test_greedy_and_sampled_replies_become_patches() -> None:
    with ScriptedServer() as srv:
        srv.on("# Issue", GOOD, GOOD, GOOD)
        config = RepairConfig(samples=3, reflections=0)
        samples = generate_repairs(fast_model(srv), "median is wrong", FILES, LOCATIONS, config)
        temps = sorted(r.body.get("temperature") for r in srv.chat_requests)
    assert [s.sample for s in samples] == [0, 1, 2]
    assert all(s.ok for s in samples)
    assert samples[0].patch.startswith("diff --git a/stats/core.py b/stats/core.py")
    assert "(ordered[mid - 1] + ordered[mid]) / 2" in str(samples[0].new_files["stats/core.py"])
    assert temps[0] == 0.0
    assert set(temps[1:]) == {0.8}


def test_failed_edit_gets_one_reflection_with_feedback() -> None:
    with ScriptedServer() as srv:
        srv.on("could not be applied", GOOD)
        srv.on("# Issue", BAD)
        config = RepairConfig(samples=1, reflections=1)
        [sample] = generate_repairs(fast_model(srv), "median is wrong", FILES, LOCATIONS, config)
        reflect = srv.chat_requests[-1]
    assert len(sample.replies) == 2
    assert sample.ok
    assert reflect.messages[-2]["content"] == BAD
    assert "len(ordered) / 2" in reflect.messages[-1]["content"]


def test_unfixable_reply_is_recorded_as_failure_not_raised() -> None:
    with ScriptedServer(default="I think the code is fine.") as srv:
        srv.on("could not be applied", "Still fine, I think.")
        config = RepairConfig(samples=1, reflections=1)
        [sample] = generate_repairs(fast_model(srv), "median is wrong", FILES, LOCATIONS, config)
    assert not sample.ok
    assert sample.patch == ""
    assert sample.replies == ["I think the code is fine.", "Still fine, I think."]


def test_a_reflection_that_repeats_the_failed_reply_ends_the_reflections() -> None:
    with ScriptedServer(default=BAD) as srv:
        config = RepairConfig(samples=1, reflections=3, reflect_temperature=0.6, max_tokens=321)
        [sample] = generate_repairs(fast_model(srv), "median is wrong", FILES, LOCATIONS, config)
        bodies = [r.body for r in srv.chat_requests]
    assert len(bodies) == 2  # the sample and one reflection, not three
    assert sample.replies == [BAD]
    assert sample.failures[-1].startswith("the reflection repeated the failed reply")
    assert bodies[1]["temperature"] == 0.6
    assert {b["max_tokens"] for b in bodies} == {321}


def test_location_sets_with_the_same_prompt_are_sampled_once() -> None:
    # Two sets that widen to the same window: one prompt, so one set of replies, not two.
    same = [{"stats/core.py": [(1, 3)]}, {"stats/core.py": [(2, 3)]}, {"stats/other.py": []}]
    with ScriptedServer() as srv:
        srv.on("# Issue", GOOD, GOOD, GOOD, GOOD)
        config = RepairConfig(samples=2, reflections=0)
        samples = generate_repairs(fast_model(srv), "median is wrong", FILES, same, config)
        prompts = {r.messages[-1]["content"] for r in srv.chat_requests}
    assert [(s.location_set, s.sample) for s in samples] == [(0, 0), (0, 1), (2, 0), (2, 1)]
    assert len(prompts) == 2


def test_windows_past_the_prompt_budget_are_left_out_from_the_last() -> None:
    files = {"a.py": "A = 1\n" * 300, "b.py": "B = 2\n" * 5}
    locations = [{"b.py": [], "a.py": []}]
    with ScriptedServer(default="no edit") as srv:
        config = RepairConfig(samples=1, reflections=0, prompt_token_budget=600)
        generate_repairs(fast_model(srv), "issue", files, locations, config)
        [prompt] = [r.messages[-1]["content"] for r in srv.chat_requests]
    assert "### b.py" in prompt
    assert "### a.py" not in prompt


def test_a_prompt_the_model_refuses_as_too_long_is_a_recorded_failure() -> None:
    with ScriptedServer(default=GOOD, context_limit=50) as srv:
        config = RepairConfig(samples=2, reflections=0)
        [sample] = generate_repairs(fast_model(srv), "median is wrong", FILES, LOCATIONS, config)
    assert sample.patch == ""
    assert sample.failures[0].startswith("not sent:")


def test_a_reply_copying_the_format_illustration_is_told_so_with_one_instruction() -> None:
    copied = (
        "stats/core.py\n```python\n<<<<<<< SEARCH\n    total = price * count\n=======\n"
        "    total = price * count * 2\n>>>>>>> REPLACE\n```\n"
    )
    with ScriptedServer() as srv:
        srv.on("could not be applied", GOOD)
        srv.on("# Issue", copied)
        config = RepairConfig(samples=1, reflections=1)
        [sample] = generate_repairs(fast_model(srv), "median is wrong", FILES, LOCATIONS, config)
        reflect = srv.chat_requests[-1].messages[-1]["content"]
    assert sample.ok
    assert "copies the format illustration's code (`total = price * count`)" in reflect
    # One instruction to act on, said once: the engine's, not a second wording of it.
    assert reflect.count("Resend only the edits that failed") == 1
    assert "Write the corrected edits" not in reflect


def test_a_reflection_repeating_the_reply_but_for_whitespace_is_a_repeat_too() -> None:
    with ScriptedServer() as srv:
        srv.on("could not be applied", "\n" + BAD.replace("\n", "  \n") + "\n\n")
        srv.on("# Issue", BAD)
        config = RepairConfig(samples=1, reflections=3)
        [sample] = generate_repairs(fast_model(srv), "median is wrong", FILES, LOCATIONS, config)
    assert len(srv.chat_requests) == 2
    assert sample.failures[-1].startswith("the reflection repeated the failed reply")


def test_the_prompt_names_the_real_paths_to_write_edits_under() -> None:
    # Qwen2.5-Coder-1.5B wrote `### path/to/file.py` (the format description's placeholder).
    windows = [
        Window("a/b.py", 1, 2, "x = 1"),
        Window("a/b.py", 5, 6, "y"),
        Window("c.py", 1, 1, "z"),
    ]
    task = repair_messages("bug", windows, "diff")[-1]["content"]
    assert task.rstrip().endswith("as in its ### heading (a/b.py, c.py).")


LONG = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(12)) + CODE
LONG_FILES = {"stats/core.py": LONG}
MEDIAN_ONLY = [{"stats/core.py": [(49, 51)]}]  # the model sees median() and a few lines
WHOLE_OF_MEDIAN = """stats/core.py
```python
def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2 == 0:
        return (ordered[mid - 1] + ordered[mid]) / 2
    return ordered[mid]
```
"""


def test_a_whole_file_for_a_file_shown_in_part_is_refused_and_the_fix_resent() -> None:
    with ScriptedServer() as srv:
        srv.on("could not be applied", GOOD)
        srv.on("# Issue", WHOLE_OF_MEDIAN)
        config = RepairConfig(samples=1, reflections=1)
        [sample] = generate_repairs(fast_model(srv), "median", LONG_FILES, MEDIAN_ONLY, config)
        prompt, reflect = srv.chat_requests[0], srv.chat_requests[-1]
    assert "def helper_0" not in prompt.messages[-1]["content"]  # shown in part
    assert "you were shown only part of this file" in reflect.messages[-1]["content"]
    assert "SEARCH/REPLACE blocks" in reflect.messages[-1]["content"]
    assert sample.ok and len(sample.replies) == 2
    new = str(sample.new_files["stats/core.py"])
    assert "def helper_0(x):" in new and "(ordered[mid - 1] + ordered[mid]) / 2" in new


def test_a_whole_file_for_a_file_shown_whole_applies() -> None:
    with ScriptedServer(default=WHOLE_OF_MEDIAN) as srv:
        config = RepairConfig(samples=1, reflections=0)
        [sample] = generate_repairs(fast_model(srv), "median", FILES, LOCATIONS, config)
    assert (
        sample.ok
        and sample.new_files["stats/core.py"]
        == WHOLE_OF_MEDIAN.split("```python\n")[1].split("```")[0]
    )


def test_asked_for_whole_files_the_model_is_shown_whole_files() -> None:
    with ScriptedServer(default="no edits") as srv:
        config = RepairConfig(samples=1, reflections=0, edit_format="whole")
        generate_repairs(fast_model(srv), "median", LONG_FILES, MEDIAN_ONLY, config)
        prompt = srv.chat_requests[0].messages[-1]["content"]
    assert LONG.strip() in prompt
