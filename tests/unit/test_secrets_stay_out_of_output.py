"""No task can print a secret, in normal, verbose or --diff output.

A task whose arguments or loop reference a secret must set ``no_log``; a
template that renders a secret must not show its diff (``diff: false`` or
``no_log``). Secrets are recognised by their variable names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRET = re.compile(r"\{\{[^}]*(password|secret|archiver_key|api_token|_token\b)[^}]*\}\}")
TASK_DIRS = ["roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "playbooks/*.yml"]
# This collection's modules declare their secret options no_log, so Ansible
# censors those values itself and the task's result stays readable.
OWN_MODULES = (
    "listserver.mailman3.mailman_list",
    "listserver.mailman3.mailman_lists",
    "listserver.mailman3.provider_aliases",
)
IGNORED_KEYS = {"name", "when", "tags", "notify", "listen", "register", "changed_when", "until"}


def tasks_in(items: Any) -> Iterator[dict[str, Any]]:
    for item in items or []:
        if not isinstance(item, dict):
            continue
        for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
            yield from tasks_in(item.get(key))
        if not any(k in item for k in ("hosts", "block", "import_playbook")):
            yield item


def task_files() -> list[Path]:
    return sorted(p for pattern in TASK_DIRS for p in ROOT.glob(pattern))


def template_source(task_file: Path, task: dict[str, Any]) -> Path | None:
    args = task.get("ansible.builtin.template")
    if not isinstance(args, dict) or "src" not in args:
        return None
    role = task_file.parents[1]
    src = str(args["src"])
    if "{{ item }}" in src:
        return None  # checked through the loop items below
    return role / "templates" / src


def shown_args(task: dict[str, Any]) -> str:
    return yaml.safe_dump({k: v for k, v in task.items() if k not in IGNORED_KEYS})


@pytest.mark.parametrize("task_file", task_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_tasks_with_secrets_are_silenced(task_file: Path) -> None:
    for task in tasks_in(yaml.safe_load(task_file.read_text())):
        name = task.get("name", "?")
        silenced = task.get("no_log") is True
        if SECRET.search(shown_args(task)) and not any(m in task for m in OWN_MODULES):
            assert silenced, f"{task_file.name}: task '{name}' handles a secret without no_log"
        sources: list[Path] = []
        source = template_source(task_file, task)
        if source is not None:
            sources.append(source)
        elif "ansible.builtin.template" in task and isinstance(task.get("loop"), list):
            role = task_file.parents[1]
            sources += [role / "templates" / f"{item}.j2" for item in task["loop"]]
        for path in sources:
            if path.exists() and SECRET.search(path.read_text()):
                assert silenced or task.get("diff") is False, (
                    f"{task_file.name}: task '{name}' renders a secret ({path.name}) "
                    "and would show it with --diff"
                )


def test_secrets_never_travel_in_a_process_environment() -> None:
    """Another process of the same user can read /proc/<pid>/environ: stdin or a file instead."""
    for task_file in task_files():
        for task in tasks_in(yaml.safe_load(task_file.read_text())):
            environment = task.get("environment") or {}
            if not isinstance(environment, dict):  # a template of a mapping
                environment = {"environment": environment}
            leaked = [key for key, value in environment.items() if SECRET.search(str(value))]
            assert not leaked, f"{task_file.relative_to(ROOT)}: {task.get('name')}: {leaked}"


def test_superuser_password_goes_to_the_bootstrap_on_stdin() -> None:
    tasks = yaml.safe_load((ROOT / "roles/mailman_web/tasks/bootstrap.yml").read_text())
    (task,) = [t for t in tasks if "superuser" in t.get("name", "")]
    assert task["ansible.builtin.command"]["stdin"] == "{{ mailman_web_superuser_password }}"
    assert task["no_log"] is True
