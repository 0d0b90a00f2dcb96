"""Conventions every role keeps, read from the role files (issue 17: one source for each rule)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT

ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
OS_VARS = re.compile(r"^Debian-\d+\.yml$")
# A preflight only reads: it may not install, write, load variables or set facts,
# or `--tags <role>_configure` alone would run without what it set up.
READ_ONLY = {
    "ansible.builtin.assert",
    "ansible.builtin.fail",
    "ansible.builtin.stat",
    "ansible.builtin.validate_argument_spec",
    "ansible.builtin.wait_for",
    "listserver.mailman3.check_secrets",
    "listserver.mailman3.quota_plan",
    "listserver.mailman3.warn",
}
TASK_KEYS = {
    "name", "when", "tags", "vars", "register", "loop", "loop_control", "changed_when",
    "failed_when", "check_mode", "no_log", "delegate_to", "run_once", "become", "listen",
    "notify", "environment", "args", "ignore_errors", "until", "retries", "delay",
}  # fmt: skip


def tasks(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text()) or []


def flat(listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks, with those inside blocks in place of the blocks."""
    out: list[dict[str, Any]] = []
    for task in listed:
        if "block" in task:
            out += flat(task["block"] + task.get("rescue", []) + task.get("always", []))
        else:
            out.append(task)
    return out


def module_of(task: dict[str, Any]) -> str:
    keys = [key for key in task if key not in TASK_KEYS]
    assert len(keys) == 1, f"cannot tell the module of {task.get('name')}: {keys}"
    return keys[0]


def os_vars_files(role: Path) -> list[Path]:
    return sorted(p for p in (role / "vars").glob("*.yml") if p.name != "main.yml")


@pytest.mark.parametrize("role", [r for r in ROLES if os_vars_files(r)], ids=lambda p: p.name)
def test_os_variables_are_named_and_loaded_one_way(role: Path) -> None:
    files = os_vars_files(role)
    assert all(OS_VARS.match(p.name) for p in files), [p.name for p in files]
    main = tasks(role / "tasks/main.yml")
    loaders = [t for t in main if "ansible.builtin.include_vars" in t]
    assert len(loaders) == 1, "tasks/main.yml loads the release's variables once"
    loader = loaders[0]
    assert "always" in loader.get("tags", []), "loaded for every tag, --tags <role>_configure too"
    first = next(t for t in main if "ansible.builtin.setup" not in t)
    assert first is loader, "loaded before any other task, the input checks included"


@pytest.mark.parametrize(
    "role", [r for r in ROLES if (r / "tasks/preflight.yml").exists()], ids=lambda p: p.name
)
def test_a_preflight_only_reads(role: Path) -> None:
    used = {module_of(task) for task in flat(tasks(role / "tasks/preflight.yml"))}
    assert used <= READ_ONLY, f"{role.name}/tasks/preflight.yml uses {sorted(used - READ_ONLY)}"
