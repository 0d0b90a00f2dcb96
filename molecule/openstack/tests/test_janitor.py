"""tools/janitor.py against the stand-in: expired stacks of its prefix go, others stay.

The stacks are made here as Terraform makes them (server and attached data volume with
the stack's metadata, tagged security group, key pair), with `created-at` set in the past
for the expired one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import ROOT, left_after, stack_resources

PREFIX = "listserver-ci"


def start_stack(conn: Any, name: str, created_at: datetime, public_key: str) -> tuple[Any, Any]:
    """Ask for a stack's resources; the server and the volume come up meanwhile."""
    metadata = {"managed-by": "listserver", "stack": name, "created-at": created_at.isoformat()}
    group = conn.network.create_security_group(name=name)
    conn.network.set_tags(group, ["managed-by=listserver", f"stack={name}"])
    conn.compute.create_keypair(name=name, public_key=public_key)
    server = conn.compute.create_server(
        name=name,
        image_id=conn.image.find_image("Debian 13 trixie").id,
        flavor_id=conn.compute.find_flavor("a1-ram2-disk20-perf1").id,
        networks=[{"uuid": conn.network.find_network("ext-net1").id}],
        key_name=name,
        security_groups=[{"name": group.id}],
        metadata=metadata,
    )
    volume = conn.block_storage.create_volume(name=f"{name}-data", size=1, metadata=metadata)
    return server, volume


def finish_stack(conn: Any, server: Any, volume: Any) -> None:
    """Attach the data volume once both are up, as Terraform does."""
    conn.compute.wait_for_server(server, wait=180)
    conn.block_storage.wait_for_status(volume, "available", wait=120)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, "in-use", wait=120)


def remove_stacks(conn: Any, names: list[str]) -> None:
    servers = [s for s in conn.compute.servers() if s.name in names]
    for server in servers:
        conn.compute.delete_server(server)
    for server in servers:
        conn.compute.wait_for_delete(server, wait=180)
    for volume in conn.block_storage.volumes():
        if volume.name in {f"{name}-data" for name in names}:
            conn.block_storage.wait_for_status(volume, "available", wait=120)
            conn.block_storage.delete_volume(volume)
    for group in conn.network.security_groups():
        if group.name in names:
            conn.network.delete_security_group(group)
    for name in names:
        conn.compute.delete_keypair(name, ignore_missing=True)


@pytest.fixture(scope="module")
def stacks(conn: Any, public_key: str) -> Iterator[dict[str, str]]:
    now = datetime.now(UTC)
    names = {
        "expired": f"{PREFIX}-old",
        "fresh": f"{PREFIX}-new",
        "other prefix": "listserver-keep-old",
    }
    made = {
        "expired": now - timedelta(hours=30),
        "fresh": now - timedelta(minutes=5),
        "other prefix": now - timedelta(hours=30),
    }
    started = [start_stack(conn, name, made[key], public_key) for key, name in names.items()]
    for server, volume in started:
        finish_stack(conn, server, volume)
    yield names
    remove_stacks(conn, list(names.values()))


def janitor(os_env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        str(ROOT / "tools" / "janitor.py"),
        "--prefix",
        PREFIX,
        "--older-than",
        "24",
    ]
    return subprocess.run(
        [*argv, *options],
        env=os_env | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_dry_run_lists_only_the_expired_stack(
    stacks: dict[str, str], os_env: dict[str, str], conn: Any
) -> None:
    result = janitor(os_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stacks["expired"] in result.stdout
    assert stacks["fresh"] not in result.stdout
    assert stacks["other prefix"] not in result.stdout
    assert stack_resources(conn, stacks["expired"])["servers"] == [stacks["expired"]]


def test_delete_removes_the_expired_stack_and_nothing_else(
    stacks: dict[str, str], os_env: dict[str, str], conn: Any
) -> None:
    result = janitor(os_env, "--delete")
    assert result.returncode == 0, result.stdout + result.stderr
    for key in ("fresh", "other prefix"):
        left = stack_resources(conn, stacks[key])
        assert left["servers"] == [stacks[key]], key
        assert left["volumes"] == [f"{stacks[key]}-data"], key
    assert left_after(conn, stacks["expired"]) == {}
