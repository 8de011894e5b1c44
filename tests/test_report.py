"""The run report from a real batch: Markdown, a self-contained HTML page, and the page as
headless Chromium draws it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentless.cli import main
from agentless.config import load_config
from agentless.runner import build_services, run_batch
from agentless.store import Store
from agentless.tasks import load_tasks
from agentless.testing import ScriptedServer, make_dataset, script_server, unittest_recipe


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    dataset, rows = make_dataset(root / "tasks", 3, kind="swebench")
    rows[2]["repo"] = str(root / "missing")
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with ScriptedServer() as srv:
        script_server(srv)
        config = load_config(
            Path("/dev/null"),
            env={},
            overrides={
                "model": {
                    "name": "scripted",
                    "base_url": srv.url,
                    "prices": {"scripted": {"prompt": 1.0, "completion": 2.0}},
                },
                "localize": {"window_samples": 1},
                "repair": {"samples": 2},
                "run": {"cache_dir": root / "cache", "workers": 3},
                "validate": {"env_dir": root / "envs"},
            },
        )
        services = build_services(config)
        services.recipes = {row["repo"]: unittest_recipe() for row in rows}
        run_batch(load_tasks(dataset), config, root / "run", progress="none", services=services)
    return root / "run"


def test_markdown_report_counts_the_funnel_and_the_failure(run_dir: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    text = (run_dir / "report.md").read_text()
    assert "3 task(s): 2 done, 1 failed" in text
    assert "| resolved | 2 | 2 |" in text
    assert "| window lines | 1.00 | 2 |" in text
    assert re.search(r"\| project2 \| failed \| - \| - \| 0 \|.*RepoError", text)


def test_the_header_says_its_tokens_are_every_call_recorded_in_the_folder(run_dir: Path) -> None:
    # A task run again (another setting, --no-resume) keeps its earlier calls in the store:
    # the header's total is what the folder paid for, not the sum of the final results.
    CliRunner().invoke(main, ["report", str(run_dir), "--html"])
    header = (run_dir / "report.md").read_text().splitlines()[2]
    page = (run_dir / "report.html").read_text()
    with Store.for_run(run_dir) as store:
        spent = store.total_usage()
    assert spent.calls > 0
    assert f"{spent.calls:,} model calls recorded in this folder" in header
    assert (
        f"{spent.prompt_tokens:,} prompt + {spent.completion_tokens:,} completion tokens" in header
    )
    assert f"{spent.calls:,} model calls, {spent.total_tokens:,} tokens recorded" in page


def test_html_report_is_one_file_with_plots_and_a_section_per_task(run_dir: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(run_dir), "--html"])
    assert result.exit_code == 0, result.output
    page = (run_dir / "report.html").read_text()
    # Nothing to fetch: no scripts, styles or images from elsewhere.
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count("<svg") == 4
    for iid in ("project0", "project1", "project2"):
        assert f'id="task-{iid}"' in page
    assert "return high" in page and "Issue reproduced" in page
    assert "python -m unittest -v" in page


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.ci
def test_html_report_renders_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("headless Chromium not installed (make test-ci installs Debian's chromium)")
    import numpy as np
    from PIL import Image

    CliRunner().invoke(main, ["report", str(run_dir), "--html"])
    shots = {}
    for name, url in (("overview", ""), ("task", "#task-project0")):
        shot = tmp_path / f"{name}.png"
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / ('profile-' + name)}",
                "--window-size=1280,1600",
                f"--screenshot={shot}",
                (run_dir / "report.html").as_uri() + url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        shots[name] = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    for name, pixels in shots.items():
        inked = float((pixels != 255).any(axis=1).mean())
        colours = len(np.unique(pixels, axis=0))
        assert inked > 0.05 and colours > 50, f"{name}: {inked:.3f} inked, {colours} colours"
    # The plots are drawn: the funnel's bars are their blue.
    assert (shots["overview"] == (76, 120, 168)).all(axis=1).any()
    assert not np.array_equal(shots["task"], shots["overview"])
