"""tools/client.py (make deploy/destroy CLIENT=...): the steps, in the client's directory.

Terraform and ansible-playbook are stand-ins that log how they were called
(client_fakes.py). The steps that run the preflight, which needs a cloud, are tested
with the lab's OpenStack: molecule/openstack/tests/test_client_deploy.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from client_fakes import INVENTORY, calls, fake_client, run, terraform_commands
from helpers import ROOT, load_script


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fake_client(tmp_path, monkeypatch)


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
    ("step", "playbook"),
    [
        ("backup", "backup.yml"),
        ("restore", "restore.yml"),
        ("adopt", "adopt.yml"),
        ("adopt-move", "adopt_move.yml"),
    ],
)
def test_playbook_steps_run_their_playbook_only(client: Path, step: str, playbook: str) -> None:
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
