"""The ``Task`` value every stage receives."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TaskKind = Literal["swebench", "exercise", "local"]


class Task(BaseModel):
    """One thing to repair.

    ``repo`` is ``owner/name`` (resolved through a URL template or a mirrors folder), a local path,
    or a git URL. SWE-bench's ``FAIL_TO_PASS`` / ``PASS_TO_PASS`` arrive as JSON-encoded strings;
    they are decoded to lists here.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    instance_id: str
    repo: str
    base_commit: str = Field(default="", description="Commit to check out; '' = current HEAD.")
    problem_statement: str
    hints_text: str = ""
    patch: str = Field(default="", description="Gold patch (never shown to any stage).")
    test_patch: str = ""
    fail_to_pass: list[str] = Field(default_factory=list, alias="FAIL_TO_PASS")
    pass_to_pass: list[str] = Field(default_factory=list, alias="PASS_TO_PASS")
    version: str = ""
    environment_setup_commit: str = ""
    created_at: str = ""
    eval_script: str = ""
    log_parser: str = ""
    kind: TaskKind = "swebench"
    test_cmd: str = Field(default="", description="Test command for local repos and exercises.")
    files: dict[str, list[str]] = Field(
        default_factory=dict, description="Exercise roles -> paths (solution, test, editor)."
    )
    hidden: list[str] = Field(
        default_factory=list,
        description="Paths of a folder task left out of its snapshot (an exercise's solution).",
    )

    @field_validator("instance_id")
    @classmethod
    def _one_folder_name(cls, value: str) -> str:
        # Results are written to <out>/<instance_id>/: the id must name one folder there.
        if value in ("", ".", "..") or "/" in value or "\\" in value or "\0" in value:
            raise ValueError("an instance id must be a plain name (no '/', '\\' or '..')")
        return value

    @field_validator("fail_to_pass", "pass_to_pass", mode="before")
    @classmethod
    def _decode_json_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else []
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # Some exports store versions as floats (0.6, 2.2) which would lose "2.20".
        return str(value) if value is not None else ""
