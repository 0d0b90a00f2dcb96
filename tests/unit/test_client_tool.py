"""tools/client.py (make deploy/destroy CLIENT=...): the steps, in the client's directory.

Terraform and ansible-playbook are stand-ins that log how they were called; the
preflight is the real tools/openstack_preflight.py against the OpenStack double.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, load_script
from openstack_double import OpenStackDouble  # tests/doubles, via conftest.py

SCRIPT = ROOT / "tools" / "client.py"
INVENTORY = "all:\n  children:\n    listserver: {}\n"

# Logs argv and TF_DATA_DIR; `console` evaluates nothing but returns the values
# Terraform would for clients/example (image overridable), `output` an inventory.
FAKE_TERRAFORM = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "data": os.environ.get("TF_DATA_DIR")}}) + "\\n")
args = sys.argv[2:]
if args[0] == "console":
    values = {{"flavor": "a1-ram2-disk20-perf1", "network": "ext-net1", "key_name": None,
              "image": os.environ.get("FAKE_IMAGE", "Debian 13 trixie"), "volume_size": 20}}
    print(json.dumps(json.dumps(values)))
elif args[0] == "output" and args[1] == "-json":
    print(json.dumps({{"ipv4": {{"value": "203.0.113.10"}}, "ipv6": {{"value": "2001:db8::10"}}}}))
elif args[0] == "output":
    sys.stdout.write({INVENTORY!r})
"""
FAKE_PLAYBOOK = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps({{"argv": ["ansible-playbook", *sys.argv[1:]]}}) + "\\n")
"""

pytestmark = [
    pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK50Warning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK60Warning"),
]


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """clients/example copied, with a vault, and the stand-ins on PATH."""
    directory = tmp_path / "clients" / "acme"
    shutil.copytree(ROOT / "clients" / "example", directory)
    vault = directory / "inventory" / "group_vars" / "all" / "vault.yml"
    vault.write_text("$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("terraform", FAKE_TERRAFORM), ("ansible-playbook", FAKE_PLAYBOOK)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TF", str(bin_dir / "terraform"))
    monkeypatch.setenv("CALLS", str(tmp_path / "calls.jsonl"))
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    return directory


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def calls() -> list[dict[str, Any]]:
    path = Path(os.environ["CALLS"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def terraform_commands() -> list[str]:
    return [c["argv"][1] for c in calls() if c["argv"][0] != "ansible-playbook"]


def test_deploy_runs_every_step_with_the_clients_state_and_tfvars(
    cloud: OpenStackDouble, client: Path
) -> None:
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
    cloud: OpenStackDouble, client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_IMAGE", "Debian 99 nonexistent")
    result = run("--auto-approve", "deploy", str(client))
    assert result.returncode == 1
    assert "image not found: 'Debian 99 nonexistent'" in result.stdout
    assert "apply" not in terraform_commands()


def test_configure_passes_ansible_options_and_a_given_vault_password(
    client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(ROOT / "tools" / "vault-password-env"))
    result = run("configure", str(client), "--", "--check", "--diff")
    assert result.returncode == 0, result.stdout + result.stderr
    assert terraform_commands() == [], "configure needs no Terraform"
    playbook = calls()[0]["argv"]
    assert playbook[-2:] == ["--check", "--diff"]
    assert "--ask-vault-pass" not in playbook


def test_destroy_drops_the_written_inventory(client: Path) -> None:
    written = client / "inventory" / "terraform.yml"
    written.write_text(INVENTORY)
    result = run("destroy", str(client))
    assert result.returncode == 0, result.stdout + result.stderr
    assert terraform_commands() == ["init", "destroy"]
    assert not written.exists()


def test_a_missing_vault_is_named_before_anything_runs(client: Path) -> None:
    (client / "inventory" / "group_vars" / "all" / "vault.yml").unlink()
    result = run("deploy", str(client))
    assert result.returncode == 2
    assert "vault.yml is missing" in result.stderr
    assert calls() == []


def test_preflight_options_follow_the_tfvars() -> None:
    spec = {"flavor": "f", "image": "Debian 13 trixie", "network": "n", "volume_size": 0}
    tool = load_script("client")
    argv = tool.preflight_argv({**spec, "key_name": "alice"})
    assert argv == [
        "--flavor=f",
        "--image=Debian 13 trixie",
        "--network=n",
        "--volume-size=0",
        "--key-name=alice",
    ]
    assert "--key-name" not in " ".join(tool.preflight_argv({**spec, "key_name": None}))
