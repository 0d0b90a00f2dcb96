"""The postgresql role reloads a changed setting and restarts only when PostgreSQL needs it.

Each test converges the role again on one host with one value changed, then
puts the scenario's value back (the put-back run must also leave the server up).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[3]


def psql(host: testinfra.host.Host, sql: str) -> str:
    return host.check_output(f"runuser -u postgres -- psql -XAtc '{sql}'")


def started(host: testinfra.host.Host) -> str:
    return psql(host, "SELECT pg_postmaster_start_time()")


def converge(host: testinfra.host.Host, tmp_path: Path, settings: dict[str, str]) -> None:
    """Run the postgresql role on this host alone with these variables."""
    playbook = tmp_path / "postgresql.yml"
    play = {"hosts": host.backend.get_hostname(), "gather_facts": True}
    play |= {"gather_subset": ["min"], "roles": [{"role": "postgresql", "vars": settings}]}
    playbook.write_text(yaml.safe_dump([play]))
    result = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(playbook)],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_ROLES_PATH": str(ROOT / "roles")},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.fixture
def restore(host: testinfra.host.Host, tmp_path: Path) -> Iterator[None]:
    yield
    converge(host, tmp_path, {})
    assert psql(host, "SHOW shared_buffers") == "32MB"


@pytest.mark.parametrize(
    ("variable", "setting", "value", "restarts"),
    [
        ("postgresql_work_mem", "work_mem", "5MB", False),
        ("postgresql_shared_buffers", "shared_buffers", "48MB", True),
    ],
)
@pytest.mark.usefixtures("restore")
def test_a_changed_setting_applies_with_a_restart_only_when_needed(
    host: testinfra.host.Host,
    tmp_path: Path,
    variable: str,
    setting: str,
    value: str,
    restarts: bool,
) -> None:
    before = started(host)
    converge(host, tmp_path, {variable: value})
    assert psql(host, f"SHOW {setting}") == value
    assert (started(host) != before) is restarts
