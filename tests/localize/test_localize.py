"""Localization stages on a real temporary repository, with the scripted model server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitrepos import git, make_repo

from agentless.config import LocalizeConfig
from agentless.localize import Localization, localize, localize_task
from agentless.localize._context import CUT_NOTE
from agentless.localize._metrics import gold_locations
from agentless.localize._replies import answer_lines, line_span, named_locations, named_paths
from agentless.localize._stages import merge_rankings, retry_temperature, vote
from agentless.model import OpenAICompatibleModel
from agentless.repo import build_index
from agentless.tasks import Task
from agentless.testing import ScriptedServer

IRRADIANCE = '''\
"""Irradiance models."""

SOLAR_CONSTANT = 1361.0


def get_total_irradiance(surface_tilt, dni, ghi):
    """Total irradiance on a tilted surface."""
    beam = dni * cos_tilt(surface_tilt)
    return beam + ghi


def cos_tilt(tilt):
    return 1.0


class Sky:
    """Sky diffuse models."""

    model = "isotropic"

    def diffuse(self, dhi):
        return dhi
'''

FILES = {
    "pkg/__init__.py": "",
    "pkg/irradiance.py": IRRADIANCE,
    "pkg/modelchain.py": (
        "from pkg.irradiance import get_total_irradiance\n\n\n"
        "class ModelChain:\n"
        "    def run_model(self, weather):\n"
        "        return get_total_irradiance(0, weather, weather)\n"
    ),
    "pkg/io/reader.py": "class CsvReader:\n    def read_header(self, stream):\n        pass\n",
    "pkg/io/writer.py": "class CsvWriter:\n    def write_row(self, row):\n        pass\n",
}
ISSUE = "get_total_irradiance ignores the diffuse part of the sky: the total irradiance is too low."

FILES_REPLY = (
    "The total is computed in the irradiance module.\n```\npkg/irradiance.py\npkg/made_up.py\n```"
)
ELEMENTS_REPLY = (
    "```\npkg/irradiance.py\nfunction: get_total_irradiance\nfunction: no_such_function\n"
    "method: Sky.diffuse\n```"
)
WINDOW_REPLIES = [
    "```\npkg/irradiance.py\nline: 8-9\n```",
    "```\npkg/irradiance.py\nfunction: get_total_irradiance\n```",
    "```\npkg/irradiance.py\nline: 9\nline: 400\n```",
    "I cannot tell.",
]
GOLD_MARKER = "GOLD_ONLY_TEXT"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    root = tmp_path / "repo"
    (sha,) = make_repo(root, FILES)
    fixed = IRRADIANCE.replace(
        "return beam + ghi", f"return beam + ghi + sky_diffuse  # {GOLD_MARKER}"
    )
    (root / "pkg/irradiance.py").write_text(fixed)
    patch = git(root, "diff") + "\n"
    git(root, "checkout", "--quiet", "--", ".")
    return root, sha, patch


@pytest.fixture
def server():
    with ScriptedServer(default="no idea") as srv:
        yield srv


def model_for(srv: ScriptedServer) -> OpenAICompatibleModel:
    return OpenAICompatibleModel("m", srv.url, max_attempts=1)


def script_all_stages(srv: ScriptedServer) -> None:
    srv.on("# Repository files", FILES_REPLY)
    srv.on("# Candidate files", ELEMENTS_REPLY)
    srv.on("# Relevant code", *WINDOW_REPLIES)


def test_three_stages_end_to_end_with_recall(repo, server):
    root, sha, patch = repo
    script_all_stages(server)
    index = build_index(root / ".git", sha)
    task = Task(
        instance_id="t-1", repo=str(root), base_commit=sha, problem_statement=ISSUE, patch=patch
    )
    result = localize_task(task, index, model_for(server), LocalizeConfig(top_files=3))

    assert result.model_files == ["pkg/irradiance.py"]  # the invented file is dropped
    # Retrieval only returns files sharing terms with the issue: two here.
    assert result.files == ["pkg/irradiance.py", "pkg/modelchain.py"]
    assert [(e.path, e.name, e.start, e.end) for e in result.elements] == [
        ("pkg/irradiance.py", "get_total_irradiance", 6, 9),
        ("pkg/irradiance.py", "Sky.diffuse", 21, 22),
    ]
    assert result.location_sets == [
        {"pkg/irradiance.py": [(8, 9)]},
        {"pkg/irradiance.py": [(6, 9)]},
        {"pkg/irradiance.py": [(9, 9)]},  # line 400 does not exist: dropped
    ]
    assert [stage.fallback for stage in result.stages] == ["", "", ""]
    windows = result.stages[2]
    assert [(a.temperature, len(a.replies)) for a in windows.attempts] == [(0.0, 1), (0.8, 3)]
    assert result.usage.calls == 4 and result.usage.prompt_tokens > 0

    metrics = result.metrics
    assert metrics["gold_files"] == ["pkg/irradiance.py"]
    assert metrics["gold_functions"] == {"pkg/irradiance.py": ["get_total_irradiance"]}
    assert metrics["files"]["file_recall"] == 1.0
    assert metrics["elements"]["function_recall"] == 1.0
    assert metrics["windows"]["per_set_function_recall"] == [1.0, 1.0, 1.0]
    assert metrics["windows"]["line_recall"] == 1.0
    # The JSON form (result.json, the store) reads back as the same typed value.
    written = json.loads(json.dumps(result.to_dict()))
    assert Localization.from_dict(written) == result
    assert Localization.from_dict(written).to_dict() == written

    requests = server.chat_requests
    assert len(requests) == 4
    assert all(GOLD_MARKER not in request.prompt for request in requests)  # gold never shown
    assert "pkg/\n  __init__.py\n  io/\n    reader.py" in requests[0].prompt  # the tree
    assert "def get_total_irradiance(surface_tilt, dni, ghi):  # lines 6-9" in requests[1].prompt
    assert "9|     return beam + ghi" in requests[2].prompt  # numbered code


def test_paths_resolve_by_unique_suffix_and_never_invent(repo, server):
    root, sha, _ = repo
    server.on("# Repository files", "Files:\n1. `io/writer.py`\n2. reader.py\n3. pkg/nope/none.py")
    server.on("# Candidate files", "```\nwriter.py\nclass: CsvWriter\n```")
    server.on("# Relevant code", "```\npkg/io/writer.py\nmethod: CsvWriter.write_row\n```")
    index = build_index(root / ".git", sha)
    result = localize("CsvWriter.write_row drops the last column", index, model_for(server))
    assert result.model_files == ["pkg/io/writer.py", "pkg/io/reader.py"]
    assert [e.name for e in result.elements] == ["CsvWriter"]
    assert result.location_sets == [{"pkg/io/writer.py": [(2, 3)]}]


def test_retry_at_higher_temperature_then_fallback_to_retrieval(repo, server):
    root, sha, _ = repo
    server.on("# Candidate files", ELEMENTS_REPLY)
    server.on("# Relevant code", WINDOW_REPLIES[0])
    index = build_index(root / ".git", sha)
    config = LocalizeConfig(max_retries=2, window_samples=1)
    result = localize(ISSUE, index, model_for(server), config)
    files = result.stages[0]
    assert [a.round for a in files.attempts] == [0, 1, 2]
    temperatures = [a.temperature for a in files.attempts]
    assert temperatures == [0.0, retry_temperature(1, config), retry_temperature(2, config)]
    assert temperatures[0] < temperatures[1] < temperatures[2]
    assert [r.body["temperature"] for r in server.chat_requests[:3]] == temperatures
    assert "used retrieval" in files.fallback
    assert result.model_files == []
    assert result.files == [path for path, _ in result.retrieved][: config.top_files]
    assert result.files[0] == "pkg/irradiance.py"


def test_a_retry_that_names_something_ends_the_retries(repo, server):
    root, sha, _ = repo
    server.on("# Repository files", "Hmm, hard to say.", FILES_REPLY)
    server.on("# Candidate files", ELEMENTS_REPLY)
    server.on("# Relevant code", WINDOW_REPLIES[0])
    index = build_index(root / ".git", sha)
    result = localize(ISSUE, index, model_for(server), LocalizeConfig(window_samples=1))
    files = result.stages[0]
    assert [a.named for a in files.attempts] == [0, 1]
    assert files.fallback == ""
    assert result.model_files == ["pkg/irradiance.py"]


def test_element_and_window_fallbacks_are_recorded(repo, server):
    root, sha, _ = repo
    server.on("# Repository files", FILES_REPLY)
    index = build_index(root / ".git", sha)
    config = LocalizeConfig(max_retries=0, window_samples=2)
    result = localize(ISSUE, index, model_for(server), config)
    elements, windows = result.stages[1], result.stages[2]
    assert "terms" in elements.fallback and "spans" in windows.fallback
    names = [e.name for e in result.elements]
    assert names[0] == "get_total_irradiance"  # shares "get", "total", "irradiance"
    expected: dict[str, list[tuple[int, int]]] = {}
    for element in result.elements:
        expected.setdefault(element.path, []).append((element.start, element.end))
    assert result.location_sets == [expected]


def test_token_budget_drops_files_from_the_end(repo, server):
    root, sha, _ = repo
    script_all_stages(server)
    index = build_index(root / ".git", sha)
    config = LocalizeConfig(prompt_token_budget=420, top_files=4, window_samples=1)
    result = localize(ISSUE, index, model_for(server), config)
    elements = result.stages[1]
    assert elements.dropped  # not every skeleton fitted
    assert elements.dropped == result.files[len(result.files) - len(elements.dropped) :]
    assert all(stage.prompt_tokens <= 420 for stage in result.stages)


def test_token_budget_shortens_the_tree_to_the_most_related_files(tmp_path, server):
    root = tmp_path / "many"
    extra = {f"pkg/extra/module_number_{i}.py": f"VALUE_{i} = {i}\n" for i in range(40)}
    (sha,) = make_repo(root, {**FILES, **extra})
    server.on("# Repository files", FILES_REPLY)
    index = build_index(root / ".git", sha)
    full = localize(ISSUE, index, model_for(server), LocalizeConfig(max_retries=0))
    needed = full.stages[0].prompt_tokens
    config = LocalizeConfig(prompt_token_budget=needed - 100, max_retries=0)
    result = localize(ISSUE, index, model_for(server), config)
    files = result.stages[0]
    assert files.dropped and files.prompt_tokens <= needed - 100
    assert "pkg/irradiance.py" not in files.dropped  # the most related file stays
    last_tree = [r.prompt for r in server.chat_requests if "# Repository files" in r.prompt][-1]
    assert "source files are shown" in last_tree and "module_number_39" not in last_tree


def test_a_single_file_over_budget_is_cut(tmp_path, server):
    root = tmp_path / "big"
    body = "".join(f"def function_{i}(x):\n    return x + {i}\n\n\n" for i in range(300))
    (sha,) = make_repo(root, {"big.py": body})
    server.on("# Repository files", "```\nbig.py\n```")
    server.on("# Candidate files", "```\nbig.py\nfunction: function_1\n```")
    server.on("# Relevant code", "```\nbig.py\nline: 5-6\n```")
    index = build_index(root / ".git", sha)
    config = LocalizeConfig(prompt_token_budget=600, window_samples=1)
    result = localize("function_1 adds the wrong number", index, model_for(server), config)
    assert CUT_NOTE in server.chat_requests[1].prompt
    assert result.stages[1].prompt_tokens <= 600
    assert result.location_sets == [{"big.py": [(5, 6)]}]


def test_retrieval_only_makes_no_model_call(repo):
    root, sha, _ = repo
    index = build_index(root / ".git", sha)
    result = localize(ISSUE, index, None, LocalizeConfig(top_files=2))
    assert result.files == [path for path, _ in result.retrieved][:2]
    assert result.stages == [] and result.location_sets == []
    assert result.to_dict()["usage"]["calls"] == 0


def test_gold_locations(repo):
    root, sha, patch = repo
    index = build_index(root / ".git", sha)
    gold = gold_locations(patch, index)
    assert gold.files == ["pkg/irradiance.py"]
    assert gold.lines == {"pkg/irradiance.py": {9}}
    assert gold.functions == {"pkg/irradiance.py": {"get_total_irradiance": (6, 9)}}
    assert gold_locations("not a patch", index).files == []


# --- reply parsing (pure) ----------------------------------------------------------------


def test_answer_lines_take_fenced_blocks_and_strip_decoration():
    reply = "Thinking...\n```text\n- `a/b.py`\n2. c.py\n<path of the file>\n```\nbye"
    assert answer_lines(reply) == ["a/b.py", "c.py"]
    assert answer_lines("```\nx.py\ny.py") == ["x.py", "y.py"]  # cut off before the fence closed
    assert answer_lines("plain.py\n") == ["plain.py"]


def test_named_paths_and_locations():
    assert named_paths("```\n./pkg/a.py\npkg/a.py\nsee pkg/b.py too\n```") == [
        "pkg/a.py",
        "pkg/b.py",
    ]
    reply = (
        "```\npkg/a.py\nfunction: alpha, beta\nmethod: `Klass.gamma()`\nclass: class Delta(Base)\n"
        "pkg/b.py: line: 10-12\nline: 7\nvariable: LIMIT\nfunction: <function_name>\n```"
    )
    found = [(n.path, n.kind, n.value) for n in named_locations(reply)]
    assert found == [
        ("pkg/a.py", "function", "alpha"),
        ("pkg/a.py", "function", "beta"),
        ("pkg/a.py", "method", "Klass.gamma"),
        ("pkg/a.py", "class", "Delta"),
        ("pkg/b.py", "line", "10-12"),
        ("pkg/b.py", "line", "7"),
        ("pkg/b.py", "variable", "LIMIT"),
    ]
    assert line_span("12-10") == (10, 12)
    assert line_span("7") == (7, 7)
    assert line_span("x") is None


def test_merge_and_vote():
    assert merge_rankings(["m1", "both", "m2"], ["r1", "both", "r2"], 4) == [
        "both",
        "m1",
        "m2",
        "r1",
    ]
    assert merge_rankings([], ["r1", "r2"], 5) == ["r1", "r2"]
    assert vote([["a", "b"], ["b", "c"], ["b"]]) == ["b", "a", "c"]


def test_short_elements_are_the_location_set_without_a_lines_call(repo, server):
    root, sha, _ = repo
    script_all_stages(server)
    index = build_index(root / ".git", sha)
    # get_total_irradiance (4 lines) and Sky.diffuse (2): 6 lines, not over 6.
    config = LocalizeConfig(top_files=3, ask_lines_over=6)
    result = localize(ISSUE, index, model_for(server), config)
    windows = result.stages[2]
    assert windows.attempts == []
    assert windows.fallback == "not asked: the located elements span 6 line(s)"
    assert result.location_sets == [{"pkg/irradiance.py": [(6, 9), (21, 22)]}]
    assert not any("# Relevant code" in str(r) for r in server.chat_requests)
    # One line more than the setting: the model is asked.
    asked = localize(ISSUE, index, model_for(server), LocalizeConfig(top_files=3, ask_lines_over=5))
    assert asked.stages[2].attempts and asked.stages[2].fallback == ""
    assert any("# Relevant code" in str(r) for r in server.chat_requests)
