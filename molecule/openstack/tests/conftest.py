"""Shared helpers of the OpenStack stand-in's verify step.

The cloud half of the project runs here, on this machine, as an ops engineer or a CI job
runs it: tools/client.py, Terraform with the real OpenStack provider (built by
tools/terraform-provider-build), the preflight and the janitor, authenticated by the
stand-in's application credential in OS_* variables. The tests read the cloud back with
openstacksdk as the same tenant.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openstack
import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[3]
CLOUD = "cloud.openstack.lab.test"
CREDENTIAL_FILE = "/root/openstack-lab-credential.json"
LAB_CLIENT = ROOT / "clients" / "lab"
VAULT_PASSWORD = "v4ult $HOME 'q' \"dq\" #h %s \\b"  # noqa: S105 (the lab's own)
# A client's secrets, as an operator fills vault.yml.example: what breaks naive quoting.
SECRETS = {
    "vault_mailman_db_password": "db $PATH 'q' \"dq\" #h %s \\b 1",
    "vault_mailman_web_db_password": "web $PATH 'q' \"dq\" #h %s \\b 2",
    "vault_mailman_rest_password": "rest $PATH 'q' \"dq\" #h %s \\b 3",
    "vault_mailman_archiver_key": "Lab7_ArchiverKey-0123456789abcdefghijkl",
    "vault_django_secret_key": "dj $PATH 'q' \"dq\" #h %s 0123456789abcdefghijklmnopqrstuvwxyz",
    "vault_web_admin_password": "adm $PATH 'q' \"dq\" #h %s \\b 4",
    "vault_metrics_password": "metrics $PATH 'q' \"dq\" #h %s 5",
    "vault_backup_restic_password": "restic $PATH 'q' \"dq\" #h %s 6",
}


def vault_env() -> dict[str, str]:
    """How Ansible gets VAULT_PASSWORD without a prompt (tools/vault-password-env)."""
    return {
        "ANSIBLE_VAULT_PASSWORD": VAULT_PASSWORD,
        "ANSIBLE_VAULT_PASSWORD_FILE": str(ROOT / "tools" / "vault-password-env"),
    }


def write_vault(path: Path, values: Mapping[str, Any]) -> None:
    """values as an ansible-vault encrypted file, VAULT_PASSWORD its password."""
    subprocess.run(
        ["ansible-vault", "encrypt", f"--output={path}", "-"],
        input=yaml.safe_dump(dict(values)),
        env={**os.environ, **vault_env()},
        text=True,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def credential() -> dict[str, Any]:
    """The stand-in's credential file (read as root on the stand-in)."""
    host = testinfra.get_host(f"podman://{CLOUD}")
    return json.loads(host.file(CREDENTIAL_FILE).content_string)


def stand_in_cloud(path: str, auth_url: str, name: str | None = None) -> dict[str, Any]:
    """A cloud of one of the stand-in's clouds.yaml files (its only one without a name),
    with Keystone's address as this machine reaches it."""
    host = testinfra.get_host(f"podman://{CLOUD}")
    clouds = yaml.safe_load(host.file(path).content_string)["clouds"]
    cloud = clouds[name] if name else next(iter(clouds.values()))
    cloud["auth"]["auth_url"] = auth_url
    return cloud


@pytest.fixture(scope="session")
def admin_conn(credential: Mapping[str, Any]) -> openstack.connection.Connection:
    """The stand-in's admin, for what only a cloud's operator does (quotas)."""
    admin = stand_in_cloud(
        "/etc/openstack/clouds.yaml", credential["auth_url"], "objectstore-admin"
    )
    return openstack.connect(**admin)


@pytest.fixture(scope="session")
def os_env(credential: Mapping[str, Any]) -> dict[str, str]:
    """The OS_* variables of an openrc for the tenant's application credential."""
    return {
        "OS_AUTH_TYPE": "v3applicationcredential",
        "OS_AUTH_URL": credential["auth_url"],
        "OS_APPLICATION_CREDENTIAL_ID": credential["application_credential_id"],
        "OS_APPLICATION_CREDENTIAL_SECRET": credential["application_credential_secret"],
        "OS_REGION_NAME": credential["region"],
        "OS_INTERFACE": "public",
        "OS_IDENTITY_API_VERSION": "3",
    }


@pytest.fixture(scope="session")
def conn(os_env: Mapping[str, str]) -> openstack.connection.Connection:
    """The tenant's connection, for reading what the tools made."""
    auth = {
        "auth_url": os_env["OS_AUTH_URL"],
        "application_credential_id": os_env["OS_APPLICATION_CREDENTIAL_ID"],
        "application_credential_secret": os_env["OS_APPLICATION_CREDENTIAL_SECRET"],
    }
    return openstack.connect(
        auth_type="v3applicationcredential", auth=auth, region_name=os_env["OS_REGION_NAME"]
    )


def terraform_env() -> dict[str, str]:
    """TF and TF_CLI_CONFIG_FILE from tools/terraform-provider-build (provider built here).
    OpenTofu: test_pipeline.py, as the CI image has no terraform."""
    env = {**os.environ, "LISTSERVER_PROVIDER_BUILD": "1"}
    out = subprocess.run(
        [str(ROOT / "tools" / "terraform-provider-build")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


class LabClient:
    """A copy of clients/lab and tools/client.py run on it."""

    def __init__(self, directory: Path, env: Mapping[str, str]) -> None:
        self.dir = directory
        self.env = dict(env)

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "client.py"), *argv],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"client.py {' '.join(argv)}: {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def step(
        self, step: str, *options: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.run(*options, step, str(self.dir), check=check)


def make_client(tmp: Path, os_env: Mapping[str, str], public_key: str) -> LabClient:
    """clients/lab copied to tmp, with a stack name of its own and the run's key."""
    directory = tmp / "lab"
    shutil.copytree(LAB_CLIENT, directory)
    env = {
        **os.environ,
        **os_env,
        **terraform_env(),
        "TF_VAR_stack_name": f"t{uuid.uuid4().hex[:8]}",
        "TF_VAR_ssh_public_key": public_key,
    }
    return LabClient(directory, env)


@pytest.fixture(scope="session")
def private_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key pair made for the run: Ansible logs in with it on the stood-in server."""
    key = tmp_path_factory.mktemp("ssh") / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lab", "-f", str(key)], check=True
    )
    return key


@pytest.fixture(scope="session")
def public_key(private_key: Path) -> str:
    """Its public half, which Terraform uploads."""
    return private_key.with_suffix(".pub").read_text().strip()


def left_after(conn: Any, name: str, timeout: float = 120) -> dict[str, list[str]]:
    """What remains of a stack once Nova has finished deleting (a server deleted
    through the API is listed until its compute service is done with it)."""
    deadline = time.monotonic() + timeout
    while any(left := stack_resources(conn, name)) and time.monotonic() < deadline:
        time.sleep(3)
    return {kind: names for kind, names in left.items() if names}


def stack_resources(conn: Any, name: str) -> dict[str, list[str]]:
    """What the project holds of one stack, by kind (names)."""
    return {
        "servers": [s.name for s in conn.compute.servers() if s.name == name],
        "volumes": [
            v.name for v in conn.block_storage.volumes() if (v.name or "").startswith(name)
        ],
        "security groups": [g.name for g in conn.network.security_groups() if g.name == name],
        "key pairs": [k.name for k in conn.compute.keypairs() if k.name == name],
    }
