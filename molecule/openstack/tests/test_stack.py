"""terraform/ through tools/client.py against the stand-in: preflight, apply, configure,
smoke, destroy.

One stack for the module: `stack` runs preflight + apply; its server is stood in by a lab
host (stood_in_server.py), which `tools/client.py configure` deploys and `make smoke`
checks, as an operator's `make deploy` and `make smoke` do; the last test destroys the
stack and checks the project holds nothing of it. The cloud is read back through its APIs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml
from conftest import ROOT, SECRETS, LabClient, left_after, make_client, vault_env, write_vault
from labkit import hosts
from stood_in_server import Server, addresses, stood_in

WORLD = {"0.0.0.0/0", "::/0"}
PROVIDER = "provider.openstack.lab.test"
PROVIDER_VARS = ROOT / "molecule" / "openstack" / "group_vars" / "all" / "provider.yml"


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, os_env: dict[str, str], public_key: str
) -> LabClient:
    return make_client(tmp_path_factory.mktemp("client"), os_env, public_key)


@pytest.fixture(scope="module")
def stack(client: LabClient, conn: Any) -> Iterator[dict[str, Any]]:
    """`tools/client.py stack`: the preflight, terraform apply, the inventory. Destroyed
    afterwards whatever happened (the last test destroys it and checks)."""
    try:
        result = client.step("stack", "--auto-approve")
        name = f"listserver-lab-{client.env['TF_VAR_stack_name']}"
        server = conn.compute.find_server(name)
        assert server is not None, result.stdout[-2000:]
        yield {"name": name, "server": conn.compute.get_server(server.id), "output": result.stdout}
    finally:
        client.step("destroy", "--auto-approve", check=False)


def test_preflight_found_the_projects_flavor_image_and_network(stack: dict[str, Any]) -> None:
    assert "preflight ok: " in stack["output"], stack["output"][:2000]


def test_server_is_active_on_ext_net1_with_both_families(stack: dict[str, Any]) -> None:
    server = stack["server"]
    assert server.status == "ACTIVE"
    assert server.flavor["original_name"] == "a1-ram2-disk20-perf1"
    assert len(addresses(server, 4)) == 1
    assert len(addresses(server, 6)) == 1


def test_server_carries_the_stack_metadata(stack: dict[str, Any], client: LabClient) -> None:
    metadata = stack["server"].metadata
    assert metadata["managed-by"] == "listserver"
    assert metadata["stack"] == client.env["TF_VAR_stack_name"]


def test_key_pair_is_the_runs_public_key(stack: dict[str, Any], conn: Any, public_key: str) -> None:
    keypair = conn.compute.get_keypair(stack["name"])
    assert keypair.public_key.strip() == public_key
    assert stack["server"].key_name == stack["name"]


def test_security_group_opens_ssh_to_the_allowed_cidrs_and_the_web_to_all(
    stack: dict[str, Any], conn: Any
) -> None:
    group = conn.network.find_security_group(stack["name"])
    rules = [r for r in conn.network.security_group_rules(security_group_id=group.id)]
    ingress = {
        (r.port_range_min, r.remote_ip_prefix)
        for r in rules
        if r.direction == "ingress" and r.protocol == "tcp"
    }
    assert {(22, "10.0.0.0/8"), (22, "fd00::/8")} <= ingress
    assert {p for p, c in ingress if c in WORLD} == {80, 443}
    assert {g["name"] for g in stack["server"].security_groups} == {stack["name"]}


def test_data_volume_is_attached_to_the_server(stack: dict[str, Any], conn: Any) -> None:
    volume = conn.block_storage.find_volume(f"{stack['name']}-data")
    volume = conn.block_storage.get_volume(volume.id)
    assert volume.status == "in-use"
    assert volume.size == 10
    assert volume.volume_type == "CEPH_1_perf1"
    assert [a["server_id"] for a in volume.attachments] == [stack["server"].id]


def test_inventory_points_at_the_servers_address(stack: dict[str, Any], client: LabClient) -> None:
    inventory = yaml.safe_load(Path(client.dir, "inventory", "terraform.yml").read_text())
    host = inventory["all"]["children"]["listserver"]["children"]["database"]["hosts"][
        stack["name"]
    ]
    assert host["ansible_host"] == addresses(stack["server"], 4)[0]
    assert host["ansible_user"] == "debian"
    volume_id = host["listserver_data_volume_id"]
    assert volume_id
    assert host["listserver_data_device_by_id"].endswith(volume_id[:20])


def test_second_apply_changes_nothing(stack: dict[str, Any], client: LabClient) -> None:
    result = client.step("stack", "--auto-approve")
    assert "No changes." in result.stdout, result.stdout[-2000:]


@pytest.fixture(scope="module")
def server(
    stack: dict[str, Any], conn: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The stack's server, stood in by a lab host at its addresses, with its key pair."""
    ca = testinfra.get_host(f"podman://{PROVIDER}").file("/etc/standin/ca.pem").content_string
    with stood_in(conn, stack["server"], ca, tmp_path_factory.mktemp("server")) as standin:
        yield standin


@pytest.fixture(scope="module")
def operator_env(
    client: LabClient, private_key: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """What an operator's shell holds for `make configure` and `make smoke`: the project's
    ansible.cfg (none of Molecule's settings), the SSH key, the vault password."""
    known_hosts = tmp_path_factory.mktemp("ssh-client") / "known_hosts"
    lab_only = ("ANSIBLE_", "MOLECULE_", "PYTEST_")
    env = {k: v for k, v in client.env.items() if not k.startswith(lab_only)}
    return {
        **env,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        # As the GitLab pipeline sets them (read by Ansible and by testinfra alike): the
        # key, and a new server's host key accepted once, then checked.
        "ANSIBLE_SSH_COMMON_ARGS": (
            f"-o IdentityFile={private_key} -o IdentitiesOnly=yes"
            f" -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=accept-new"
        ),
        **vault_env(),
    }


def write_client_inventory(client: LabClient) -> None:
    """The vault an operator fills (the mailbox's password and the Mail API token as the
    provider gave them), encrypted; and where this run's Mail API double answers."""
    provider = yaml.safe_load(PROVIDER_VARS.read_text())
    secrets = {
        **SECRETS,
        "vault_mailbox_password": provider["provider_standin_password"],
        "vault_provider_aliases_api_token": provider["provider_standin_api_token"],
    }
    group_vars = client.dir / "inventory" / "group_vars" / "all"
    write_vault(group_vars / "vault.yml", secrets)
    api = f"http://{hosts.address(PROVIDER)}:{provider.get('provider_standin_api_port', 8080)}"
    (group_vars / "lab_run.yml").write_text(f"provider_aliases_api_url: {api}\n")


@pytest.fixture(scope="module")
def configured(
    server: Server, client: LabClient, operator_env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`tools/client.py configure` (make configure): reachable.yml, site.yml, aliases.yml."""
    write_client_inventory(client)
    return LabClient(client.dir, operator_env).step("configure")


def test_configure_deploys_the_list_server_on_the_server_nova_made(
    configured: subprocess.CompletedProcess[str], server: Server
) -> None:
    recap = [line for line in configured.stdout.splitlines() if line.startswith(server.name)]
    assert recap, configured.stdout[-3000:]
    assert " failed=0 " in recap[-1], recap
    assert " unreachable=0 " in recap[-1], recap


def test_a_second_configure_changes_nothing(
    configured: subprocess.CompletedProcess[str], client: LabClient, operator_env: dict[str, str]
) -> None:
    again = LabClient(client.dir, operator_env).step("configure")
    recaps = [line for line in again.stdout.splitlines() if " changed=" in line]
    assert recaps, again.stdout[-3000:]
    assert all(" changed=0 " in line for line in recaps), again.stdout[-3000:]


def test_smoke_passes_against_the_servers_inventory(
    configured: subprocess.CompletedProcess[str], client: LabClient, operator_env: dict[str, str]
) -> None:
    smoke = subprocess.run(
        ["make", "--no-print-directory", "smoke", f"INVENTORY={client.dir / 'inventory'}"],
        cwd=ROOT,
        env=operator_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert smoke.returncode == 0, smoke.stdout[-4000:] + smoke.stderr[-2000:]
    assert " passed" in smoke.stdout, smoke.stdout[-1500:]
    # With a mailbox, the relay's checks run too.
    assert " skipped" not in smoke.stdout, smoke.stdout[-1500:]


def test_destroy_leaves_nothing_of_the_stack(
    stack: dict[str, Any], client: LabClient, conn: Any
) -> None:
    client.step("destroy", "--auto-approve")
    assert left_after(conn, stack["name"]) == {}
    # The server's port on ext-net1 went with it (no other server is left by now).
    assert [p.id for p in conn.network.ports(device_owner="compute:nova")] == []
    assert not Path(client.dir, "inventory", "terraform.yml").exists()
