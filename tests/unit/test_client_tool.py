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
    outputs = {{"ipv4": {{"value": "203.0.113.10"}}, "ipv6": {{"value": "2001:db8::10"}}}}
    outputs["backup_swift_application_credential_secret"] = {{
        "sensitive": True, "value": os.environ.get("FAKE_BACKUP_SECRET")}}
    print(json.dumps(outputs))
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
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD", raising=False)
    monkeypatch.delenv("FAKE_BACKUP_SECRET", raising=False)
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
    written_vault = client / "inventory" / "group_vars" / "all" / "terraform_vault.yml"
    written_vault.write_text("$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    result = run("destroy", str(client))
    assert result.returncode == 0, result.stdout + result.stderr
    assert terraform_commands() == ["init", "destroy"]
    assert not written.exists()
    assert not written_vault.exists(), "the destroyed credential's secret must go too"


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


@pytest.mark.parametrize(
    ("step", "playbook"), [("backup", "backup.yml"), ("restore", "restore.yml")]
)
def test_backup_and_restore_run_their_playbook_only(client: Path, step: str, playbook: str) -> None:
    result = run(step, str(client), "--", "-e", "backup_restore_snapshot=1a2b3c4d")
    assert result.returncode == 0, result.stdout + result.stderr
    assert terraform_commands() == [], f"{step} needs no Terraform"
    argv = calls()[0]["argv"]
    assert [Path(p).name for p in argv if p.endswith(".yml")] == [playbook]
    assert argv[-2:] == ["-e", "backup_restore_snapshot=1a2b3c4d"]
    assert "--ask-vault-pass" in argv


# ---- the backup credential's secret ------------------------------------------
# A secret with what YAML, JSON and Jinja treat specially: it must come back as is.
BACKUP_SECRET = "s3cr3t-{{ lookup('pipe','id') }} \"quoted\" 'single' \\ #x: é"  # noqa: S105 - test value
VAULT_PASSWORD = "client vault pass"  # noqa: S105 - test value


def vault_env(password: str = VAULT_PASSWORD) -> dict[str, str]:
    return {
        **os.environ,
        "ANSIBLE_VAULT_PASSWORD": password,
        "ANSIBLE_VAULT_PASSWORD_FILE": str(ROOT / "tools" / "vault-password-env"),
    }


def decrypt(path: Path, password: str = VAULT_PASSWORD) -> str:
    """The file decrypted with the vault password."""
    return subprocess.run(
        ["ansible-vault", "view", str(path)],
        env=vault_env(password),
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def decrypt_and_load(path: Path, password: str = VAULT_PASSWORD) -> Any:
    """What Ansible reads from the file: decrypted, then parsed by Ansible's YAML loader."""
    from ansible.parsing.yaml.loader import AnsibleLoader

    return AnsibleLoader(decrypt(path, password)).get_single_data()


@pytest.fixture
def real_vault(client: Path) -> Path:
    """The client's vault.yml, really encrypted with VAULT_PASSWORD."""
    vault = client / "inventory" / "group_vars" / "all" / "vault.yml"
    subprocess.run(
        ["ansible-vault", "encrypt", f"--output={vault}", "-"],
        env=vault_env(),
        input='vault_mailbox_password: "x"\n',
        check=True,
        capture_output=True,
        text=True,
    )
    return vault


def test_inventory_writes_the_backup_secret_encrypted_and_private(
    client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BACKUP_SECRET", BACKUP_SECRET)
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD", VAULT_PASSWORD)
    result = run("inventory", str(client))
    assert result.returncode == 0, result.stdout + result.stderr
    written = client / "inventory" / "group_vars" / "all" / "terraform_vault.yml"
    assert written.stat().st_mode & 0o777 == 0o600, "the secret's file must be the owner's only"
    text = written.read_text()
    assert text.startswith("$ANSIBLE_VAULT;"), "the secret must be ansible-vault encrypted"
    assert "s3cr3t" not in text
    assert "s3cr3t" not in result.stdout + result.stderr, "the secret must never be printed"
    assert not list(written.parent.glob(".*partial")), "no half-written file may stay"
    loaded = decrypt_and_load(written)
    assert loaded == {"vault_backup_swift_application_credential_secret": BACKUP_SECRET}
    assert "vault_backup_swift_application_credential_secret: !unsafe " in decrypt(written), (
        "the secret must be !unsafe: Ansible must never template it"
    )


def test_inventory_without_a_backup_target_drops_a_stale_secret(client: Path) -> None:
    written = client / "inventory" / "group_vars" / "all" / "terraform_vault.yml"
    written.write_text("$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    result = run("inventory", str(client))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not written.exists(), "backup turned off: the deleted credential's secret goes"


def test_the_vault_password_is_asked_once_checked_and_reused_by_the_playbooks(
    client: Path, real_vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = load_script("client")
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return VAULT_PASSWORD

    monkeypatch.setattr(tool.getpass, "getpass", answer)
    acme = tool.Client(client, "terraform")
    acme.write_secret(BACKUP_SECRET)
    acme.write_secret(BACKUP_SECRET)
    assert len(asked) == 1, "one prompt for the whole run"
    assert decrypt_and_load(acme.written_vault)[tool.BACKUP_CREDENTIAL_VAULT_VARIABLE] == (
        BACKUP_SECRET
    )
    assert acme.vault_args([]) == [], "the playbooks get the same password, no second prompt"


def test_a_vault_password_that_does_not_open_vault_yml_is_refused(
    client: Path, real_vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = load_script("client")
    monkeypatch.setattr(tool.getpass, "getpass", lambda prompt: "not the password")
    acme = tool.Client(client, "terraform")
    with pytest.raises(tool.ClientError, match="does not open"):
        acme.write_secret(BACKUP_SECRET)
    assert not acme.written_vault.exists()


def test_configure_asks_for_the_vault_when_only_the_backup_secret_is_encrypted(
    client: Path,
) -> None:
    (client / "inventory" / "group_vars" / "all" / "vault.yml").write_text("plain: 1\n")
    written = client / "inventory" / "group_vars" / "all" / "terraform_vault.yml"
    written.write_text("$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    result = run("configure", str(client))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--ask-vault-pass" in calls()[0]["argv"]
