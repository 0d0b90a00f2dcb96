"""bench/lab.py: the warm converge's per-role seconds, from ansible.posix.profile_roles."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from helpers import load_script

# The end of a run with profile_tasks and profile_roles (ansible.posix 2.1.0),
# as ansible-playbook prints it.
RECAPS = """\
PLAY RECAP *********************************************************************
lists13.bench.lab.test     : ok=310  changed=0    unreachable=0    failed=0    skipped=80

TASKS RECAP ********************************************************************
Sunday 06 December 2026  02:37:38 +0000 (0:00:00.404)       0:00:00.421 *******
===============================================================================
monitoring : Look for units that are not running or not enabled --------- 0.40s
setup ------------------------------------------------------------------- 9.99s

ROLES RECAP ********************************************************************
Sunday 06 December 2026  02:37:38 +0000 (0:00:00.418)       0:00:00.418 *******
===============================================================================
mailman_core ----------------------------------------------------------- 12.31s
monitoring -------------------------------------------------------------- 0.87s
gather_facts ------------------------------------------------------------ 0.40s
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
total ------------------------------------------------------------------ 13.58s
"""


@pytest.fixture
def lab() -> ModuleType:
    return load_script("lab", "bench")


def test_role_seconds_reads_the_roles_recap_only(lab: ModuleType) -> None:
    assert lab.role_seconds(RECAPS) == {
        "mailman_core": 12.31,
        "monitoring": 0.87,
        "gather_facts": 0.4,
    }


def test_role_seconds_is_empty_without_profile_roles(lab: ModuleType) -> None:
    assert lab.role_seconds(RECAPS.split("ROLES RECAP")[0]) == {}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "ansible.posix.profile_tasks,ansible.posix.profile_roles"),
        ("ansible.posix.timer", "ansible.posix.timer,ansible.posix.profile_roles"),
        ("ansible.posix.profile_roles", "ansible.posix.profile_roles"),
    ],
)
def test_profile_roles_joins_the_callbacks_already_set(
    lab: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    given: str | None,
    expected: str,
) -> None:
    if given is None:
        monkeypatch.delenv("ANSIBLE_CALLBACKS_ENABLED", raising=False)
    else:
        monkeypatch.setenv("ANSIBLE_CALLBACKS_ENABLED", given)
    seen: dict[str, str] = {}

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.update(kwargs["env"])
        return subprocess.CompletedProcess(command, 0, RECAPS, "")

    monkeypatch.setattr(lab, "WORKDIR", tmp_path)
    monkeypatch.setattr(lab.subprocess, "run", run)
    result = lab.playbook(tmp_path / "site.yml", profile_roles=True)
    assert seen["ANSIBLE_CALLBACKS_ENABLED"] == expected
    assert seen["PROFILE_ROLES_SUMMARY_ONLY"] == "true"
    assert result.changed == 0
    assert lab.role_seconds(result.output)["monitoring"] == 0.87
