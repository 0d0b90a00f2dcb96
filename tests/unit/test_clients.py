"""The client directories (clients/example, clients/ci, clients/lab) fit the playbooks and
terraform/.

Each client is copied with the inventory `terraform output` would add and its vault
filled with test values; Ansible then parses it and playbooks/preflight.yml, the first
play of site.yml, accepts it on a local connection.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT

CLIENTS = ["example", "ci", "lab"]
EXPECTED = ROOT / "tests/smoke/expected.yml"
WIRING_VIEW = ROOT / "tests/unit/wiring-view.yml"
HOST = "listserver-test"
# The vault of clients/example/.../vault.yml.example, filled with valid values.
VAULT = {
    "vault_mailman_db_password": "db p$a's\"s #w%rd \\ x",
    "vault_mailman_web_db_password": "web p$a's\"s #w%rd \\ y",
    "vault_mailman_rest_password": "rest p$a's\"s #w%rd \\ z",
    "vault_mailman_archiver_key": "Kx7_ArchiverKey-0123456789abcdefghijkl",
    "vault_django_secret_key": "dj $a's\"s #w%rd 0123456789abcdefghijklmnopqrstuvwxyz0123",
    "vault_web_admin_password": "adm p$a's\"s #w%rd \\ w",
    "vault_mailbox_password": "mailbox password",
    "vault_metrics_password": "metrics p$a's\"s #w%rd",
    "vault_backup_restic_password": "restic p$a's\"s #w%rd \\ r",
    "vault_backup_swift_application_credential_secret": "swift $e'c\"ret #%",
}
# What terraform output adds to the inventory with backup_enabled = true.
BACKUP = {
    "backup_swift_container": "listserver-backup",
    "backup_swift_auth_url": "https://api.pub1.infomaniak.cloud/identity/v3",
    "backup_swift_region": "dc3-a",
    "backup_swift_application_credential_id": "0123456789abcdef0123456789abcdef",
}
# This machine over a local connection; the provider's relay is not reachable from it.
LOCAL = {
    "ansible_connection": "local",
    "ansible_become": False,
    "ansible_python_interpreter": "/usr/bin/python3",
    "postfix_relay_check": False,
    "fetchmail_imap_check": False,
}


def terraform_inventory() -> dict[str, Any]:
    """The shape of terraform/'s `ansible_inventory` output (see terraform/main.tf); no
    data volume, whose device the preflight would look for on this machine."""
    host = {
        "ansible_host": "203.0.113.10",
        "ansible_user": "debian",
        "listserver_data_device": "",
        "listserver_data_device_by_id": "",
        "listserver_data_volume_id": "",
    }
    groups = {"database": {"hosts": {HOST: host}}, "mailman": {"hosts": {HOST: {}}}}
    groups["web"] = {"hosts": {HOST: {}}}
    return {"all": {"children": {"listserver": {"children": groups}}}}


def tfvars(path: Path) -> dict[str, Any]:
    """Top-level `name = value` lines of a tfvars file (strings, numbers, lists, bools)."""
    values = {}
    for line in path.read_text().splitlines():
        if match := re.fullmatch(r"([a-z_]+)\s*=\s*(.+?)\s*", line):
            values[match[1]] = json.loads(match[2])
    return values


def ansible_env() -> dict[str, str]:
    return {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}


@pytest.fixture(params=CLIENTS)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of the client as after `make stack`, with its vault filled in."""
    name: str = request.param
    copy = tmp_path / name
    shutil.copytree(ROOT / "clients" / name, copy)
    inventory = copy / "inventory"
    (inventory / "terraform.yml").write_text(yaml.safe_dump(terraform_inventory()))
    (inventory / "group_vars" / "all" / "vault.yml").write_text(yaml.safe_dump(VAULT))
    return copy


def test_inventory_puts_the_terraform_host_in_every_group(client: Path) -> None:
    result = subprocess.run(
        ["ansible-inventory", "-i", str(client / "inventory"), "--list"],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=True,
    )
    inventory = json.loads(result.stdout)
    for group in ("database", "mailman", "web"):
        assert inventory[group]["hosts"] == [HOST], group
    assert set(inventory["listserver"]["children"]) == {"database", "mailman", "web"}
    hostvars = inventory["_meta"]["hostvars"][HOST]
    assert hostvars["ansible_become"] is True, "the playbooks need root on the host"
    assert hostvars["ansible_host"] == "203.0.113.10"


def preflight(client: Path, extra: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            str(client / "inventory"),
            "-e",
            json.dumps({**LOCAL, **extra}),
            str(ROOT / "playbooks" / "preflight.yml"),
        ],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=ROOT,
        check=False,
    )


def test_preflight_of_site_yml_accepts_the_client(client: Path) -> None:
    result = preflight(client, {})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_preflight_accepts_the_backup_target_terraform_gives(client: Path) -> None:
    result = preflight(client, BACKUP)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    # Run, not skipped: the inventory's container turned the Swift target on.
    assert re.search(r"Check the Swift target and its credential\]\s*\**\s*\nok:", result.stdout)


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"backup_swift_application_credential_id": "my-credential"}, "32-hex-digit ID"),
        ({"vault_backup_restic_password": "short"}, "at least 16 characters"),
        ({"backup_swift_container": "no/slash"}, "container 'no/slash'"),
    ],
)
def test_preflight_stops_a_backup_target_that_cannot_work(
    client: Path, override: dict[str, str], named: str
) -> None:
    result = preflight(client, {**BACKUP, **override})
    assert result.returncode != 0
    assert named in result.stdout
    assert VAULT["vault_backup_restic_password"] not in result.stdout


def expected_values(
    inventory: Path, playbook: Path = EXPECTED, var: str = "smoke_expected"
) -> dict[str, Any]:
    """What the roles receive on the host (tests/smoke/expected.yml; no connection)."""
    result = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), "--limit", HOST, str(playbook)],
        capture_output=True,
        text=True,
        env={**ansible_env(), "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    view: dict[str, Any] = json.loads(result.stdout)["plays"][0]["tasks"][-1]["hosts"][HOST]
    return view[var]


def test_the_wiring_gives_the_roles_the_clients_values(client: Path) -> None:
    listserver = yaml.safe_load((client / "inventory/group_vars/all/listserver.yml").read_text())
    expected = expected_values(client / "inventory")
    assert expected["fqdn"] == listserver["listserver_fqdn"]
    assert expected["tls_mode"] == listserver["listserver_tls_mode"]
    relay = listserver.get("listserver_mail_server", "mail.infomaniak.com")
    assert expected["relay_host"] == (relay if listserver.get("listserver_mailbox") else "")


@pytest.mark.parametrize("where", ["group_vars/all", "group_vars/mailman", "host_vars"])
def test_a_role_variable_set_by_the_client_wins_over_the_wiring(client: Path, where: str) -> None:
    overrides = {"postfix_relay_host": "relay.example.net", "nginx_tls_mode": "selfsigned"}
    path = client / "inventory" / where / ("overrides.yml" if where != "host_vars" else HOST)
    if where == "host_vars":
        path.parent.mkdir()
        path = path.with_suffix(".yml")
    else:
        path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(overrides))
    expected = expected_values(client / "inventory")
    assert expected["relay_host"] == "relay.example.net"
    assert expected["tls_mode"] == "selfsigned"
    # Wired from the relay unless the client says otherwise.
    assert expected["intake"] is True


def test_the_values_roles_share_follow_the_role_that_owns_them(client: Path) -> None:
    default = expected_values(client / "inventory", WIRING_VIEW, "wiring_view")
    assert default == {
        "rest_urls": ["http://127.0.0.1:8001"] * 3,
        "uwsgi_socket": "/run/mailman3-web/uwsgi.sock",
        "intake_smtp_port": 10026,
        "intake_imap_port": 993,
        "data_volume_device": "",
    }
    owners = {
        "mailman_core_rest_port": 8011,
        "mailman_web_uwsgi_socket": "/run/mailman3-web/app.sock",
        "postfix_intake_port": 10036,
        "fetchmail_imap_port": 143,
    }
    (client / "inventory/group_vars/all/owners.yml").write_text(yaml.safe_dump(owners))
    moved = expected_values(client / "inventory", WIRING_VIEW, "wiring_view")
    assert moved == {
        "rest_urls": ["http://127.0.0.1:8011"] * 3,
        "uwsgi_socket": "/run/mailman3-web/app.sock",
        "intake_smtp_port": 10036,
        "intake_imap_port": 143,
        "data_volume_device": "",
    }


def test_the_data_volume_is_named_by_its_stable_device_path(client: Path) -> None:
    """Nova's device name (/dev/vdb) may not be the guest's: the by-id path wins."""
    by_id = "/dev/disk/by-id/virtio-0b5e3c1a-7d2f-4c1e-9"
    host = {"listserver_data_device": "/dev/vdb", "listserver_data_device_by_id": by_id}
    (client / "inventory/host_vars").mkdir(exist_ok=True)
    host_vars = client / "inventory/host_vars" / f"{HOST}.yml"
    host_vars.write_text(yaml.safe_dump(host))
    assert (
        expected_values(client / "inventory", WIRING_VIEW, "wiring_view")["data_volume_device"]
        == by_id
    )
    # An inventory written by hand with Nova's name only still works.
    host_vars.write_text(yaml.safe_dump({"listserver_data_device": "/dev/vdb"}))
    assert (
        expected_values(client / "inventory", WIRING_VIEW, "wiring_view")["data_volume_device"]
        == "/dev/vdb"
    )


def test_no_playbook_adjacent_variables_outrank_the_inventory() -> None:
    # Ansible ranks group_vars/ next to a playbook above the inventory's
    # group_vars/all: a client's value there would be silently ignored.
    adjacent = [p for p in (ROOT / "playbooks").rglob("*_vars") if p.is_dir()]
    assert not adjacent, f"move these into role defaults (roles/listserver): {adjacent}"


@pytest.mark.parametrize("name", CLIENTS)
def test_tfvars_set_only_declared_variables_and_the_inventory_fqdn(name: str) -> None:
    declared = set(
        re.findall(r'^variable "(\w+)"', (ROOT / "terraform/variables.tf").read_text(), re.M)
    )
    values = tfvars(ROOT / "clients" / name / "terraform.tfvars")
    # Terraform only warns about an undeclared variable in a tfvars file.
    assert set(values) <= declared, set(values) - declared
    listserver = yaml.safe_load(
        (ROOT / "clients" / name / "inventory/group_vars/all/listserver.yml").read_text()
    )
    assert values["fqdn"] == listserver["listserver_fqdn"]


def test_example_vault_lists_every_secret_the_playbooks_read() -> None:
    example = ROOT / "clients/example/inventory/group_vars/all/vault.yml.example"
    listed = set(yaml.safe_load(example.read_text()))
    wiring = (ROOT / "roles/listserver/defaults/main.yml").read_text()
    # make stack writes the Swift one (terraform_vault.yml), the S3 one is for
    # the other target: the example names them in comments.
    optional = {
        "vault_backup_swift_application_credential_secret",
        "vault_backup_s3_secret_access_key",
    }
    assert set(re.findall(r"\bvault_\w+", wiring)) <= listed | optional
    assert all(f"# {name}: " in example.read_text() for name in optional)
    assert listed == set(VAULT) - optional, "update VAULT in this test with the example"


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("clients/example/inventory/group_vars/all/vault.yml", True),
        ("clients/ci/inventory/group_vars/all/vault.yml", True),
        ("clients/example/terraform.tfstate", True),
        ("clients/example/.terraform/terraform.tfstate", True),
        ("clients/ci/inventory/terraform.yml", True),
        ("clients/acme/terraform.tfvars", True),
        ("clients/acme/inventory/hosts.yml", True),
        ("terraform/terraform.tfvars", True),
        ("clients/example/terraform.tfvars", False),
        ("clients/example/inventory/group_vars/all/vault.yml.example", False),
        ("clients/ci/inventory/group_vars/all/listserver.yml", False),
    ],
)
def test_git_keeps_client_data_and_secrets_out(path: str, ignored: bool) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False
    )
    assert (result.returncode == 0) is ignored
