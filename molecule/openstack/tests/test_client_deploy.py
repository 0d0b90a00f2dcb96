"""tools/client.py deploy: the preflight against the stand-in decides whether Terraform
applies. Terraform and ansible-playbook are stand-ins that log how they were called
(tests/unit/client_fakes.py); what the real ones do to this cloud is test_stack.py's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "unit"))
from client_fakes import INVENTORY, calls, fake_client, run, terraform_commands


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, os_env: dict[str, str]) -> Path:
    """clients/example with the stand-ins, and the tenant's credential in OS_*."""
    for name, value in os_env.items():
        monkeypatch.setenv(name, value)
    return fake_client(tmp_path, monkeypatch)


def test_deploy_runs_every_step_with_the_clients_state_and_tfvars(client: Path) -> None:
    result = run("--auto-approve", "deploy", str(client))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "preflight ok" in result.stdout
    assert terraform_commands() == ["init", "console", "apply", "output", "output"]
    assert "at 203.0.113.10 (A), 2001:db8::10 (AAAA)" in result.stdout
    log = calls()
    assert all(c["data"] == str(client / ".terraform") for c in log[:5])
    assert f"-backend-config=path={client / 'terraform.tfstate'}" in log[0]["argv"]
    assert log[2]["argv"][1:] == [
        "apply",
        f"-var-file={client / 'terraform.tfvars'}",
        "-auto-approve",
    ]
    assert (client / "inventory" / "terraform.yml").read_text().endswith(INVENTORY)
    playbook = log[5]["argv"]
    assert playbook[:3] == ["ansible-playbook", "-i", str(client / "inventory")]
    assert [Path(p).name for p in playbook[3:6]] == ["reachable.yml", "site.yml", "aliases.yml"]
    assert "--ask-vault-pass" in playbook, "an encrypted vault needs its password"


def test_a_failed_preflight_stops_before_terraform_apply(
    client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_IMAGE", "Debian 99 nonexistent")
    result = run("--auto-approve", "deploy", str(client))
    assert result.returncode == 1
    assert "image not found: 'Debian 99 nonexistent'" in result.stdout
    assert "apply" not in terraform_commands()
