"""terraform/ through tools/client.py against the stand-in: preflight, apply, destroy.

One stack for the module: `stack` runs preflight + apply; the last test destroys it and
checks the project holds nothing of it. Everything is read back through the APIs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import LabClient, left_after, make_client

WORLD = {"0.0.0.0/0", "::/0"}


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


def addresses(server: Any, version: int) -> list[str]:
    return [a["addr"] for a in server.addresses.get("ext-net1", []) if a["version"] == version]


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


def test_destroy_leaves_nothing_of_the_stack(
    stack: dict[str, Any], client: LabClient, conn: Any
) -> None:
    client.step("destroy", "--auto-approve")
    assert left_after(conn, stack["name"]) == {}
    # The server's port on ext-net1 went with it (no other server is left by now).
    assert [p.id for p in conn.network.ports(device_owner="compute:nova")] == []
    assert not Path(client.dir, "inventory", "terraform.yml").exists()
