"""Apply replies with aider-chat's own coders; run with an interpreter that has aider-chat.

    AIDER_PYTHON -m ... < cases.jsonl > outcomes.jsonl   (benchmarks/edits.py runs this)

aider-chat is not a dependency of agentless: install it in a separate virtual environment and
pass its interpreter to ``benchmarks/edits.py --aider-python``. Each input line is
``{"id", "format", "files", "reply"}``; for each, the files are written to a fresh folder, a
real ``Coder`` of aider's ``diff`` / ``udiff`` / ``whole`` edit format is created on them
(every file added to the chat, as a user who had added the files the prompt shows), the reply
is handed to it as the model's response and ``apply_updates()`` runs, as in aider's chat loop.
The output line is ``{"id", "failed", "files"}``: whether aider reported the reply as not
applied (a reflected error, or no edit at all) and the files as they are on disk afterwards.
No model is called; ``benchmarks/edits.py`` runs this in a network namespace with loopback
only (``unshare -n``) where it can, and aider's model-metadata download is switched off.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price table download

from aider import models
from aider.coders import Coder
from aider.io import InputOutput
from aider.models import Model

# The coders read model metadata that aider would otherwise download; nothing here needs it.
models.model_info_manager.content = {"offline": {}}
models.model_info_manager._cache_loaded = True


def _write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def _read(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(".aider"):
            out[rel] = path.read_bytes().decode("utf-8", "replace")
    return out


def apply_case(case: dict[str, object], model: Model) -> dict[str, object]:
    files = case["files"]
    assert isinstance(files, dict)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root, files)
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            chat = InputOutput(yes=True, pretty=False, fancy_input=False)
            coder = Coder.create(
                main_model=model,
                edit_format=case["format"],
                io=chat,
                fnames=[str(root / p) for p in files],
                use_git=False,
                auto_commits=False,
                dirty_commits=False,
                map_tokens=0,
                stream=False,
                suggest_shell_commands=False,
                detect_urls=False,
            )
            coder.root = str(root)
            coder.partial_response_content = str(case["reply"])
            coder.reflected_message = None
            edited = coder.apply_updates()
        failed = bool(coder.reflected_message) or not edited
        return {"id": case["id"], "failed": failed, "files": _read(root)}


def main() -> None:
    model = Model("gpt-4o")  # only names the coder's defaults; never called
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(apply_case(json.loads(line), model)), flush=True)


if __name__ == "__main__":
    main()
