"""The CI pipeline's janitor (`make janitor` with .gitlab-ci.yml's prefix and age)
against the stand-in: expired stacks of its prefix go; young ones, another prefix's and
resources made by hand stay; a volume another server holds is a failure.

The stacks are made here as Terraform makes them (server and attached data volume with
the stack's metadata, tagged security group, key pair), with `created-at` set in the past
for the expired one.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from conftest import ROOT, left_after, stack_resources

CI_VARIABLES = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())["variables"]
PREFIX = CI_VARIABLES["JANITOR_PREFIX"]
HOURS = CI_VARIABLES["JANITOR_HOURS"]
MAKE_JANITOR = ("make", "-s", "--no-print-directory", "-C", str(ROOT), "janitor")
OLD = datetime.now(UTC) - timedelta(hours=30)


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
        "expired": OLD,
        "fresh": now - timedelta(minutes=5),
        "other prefix": OLD,
    }
    started = [start_stack(conn, name, made[key], public_key) for key, name in names.items()]
    # Made by hand with the prefix, without the mark: never the janitor's.
    manual = f"{PREFIX}-manual"
    conn.network.create_security_group(name=manual)
    conn.block_storage.create_volume(
        name=f"{manual}-data", size=1, metadata={"created-at": OLD.isoformat()}
    )
    for server, volume in started:
        finish_stack(conn, server, volume)
    yield names | {"manual": manual}
    remove_stacks(conn, [*names.values(), manual])


def janitor(os_env: dict[str, str], *make_args: str) -> subprocess.CompletedProcess[str]:
    """The CI janitor job's command (.gitlab-ci.yml), as the tenant."""
    env = os_env | {"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"]}
    if "XDG_CACHE_HOME" in os.environ:
        env["XDG_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"]
    return subprocess.run(
        [*MAKE_JANITOR, f"JANITOR_PREFIX={PREFIX}", f"JANITOR_HOURS={HOURS}", *make_args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_dry_run_lists_only_the_expired_stack(
    stacks: dict[str, str], os_env: dict[str, str], conn: Any
) -> None:
    result = janitor(os_env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert out[-1] == "1 expired stack(s), 4 resource(s) would delete, 0 failure(s)", out
    assert all(line.startswith("would delete ") for line in out[:-1]), out
    assert {line.split()[-4] for line in out[:-1]} == {
        stacks["expired"],
        f"{stacks['expired']}-data",
    }
    assert stack_resources(conn, stacks["expired"])["servers"] == [stacks["expired"]]


def test_delete_removes_the_expired_stack_and_nothing_else(
    stacks: dict[str, str], os_env: dict[str, str], conn: Any
) -> None:
    result = janitor(os_env, "DELETE=1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("1 expired stack(s), 4 resource(s) deleted")
    left = stack_resources(conn, stacks["manual"])
    assert (left["security groups"], left["volumes"]) == (
        [stacks["manual"]],
        [f"{stacks['manual']}-data"],
    )
    for key in ("fresh", "other prefix"):
        left = stack_resources(conn, stacks[key])
        assert left["servers"] == [stacks[key]], key
        assert left["volumes"] == [f"{stacks[key]}-data"], key
    assert left_after(conn, stacks["expired"]) == {}


def test_a_volume_another_server_holds_is_a_failure(
    stacks: dict[str, str], os_env: dict[str, str], conn: Any
) -> None:
    # An expired stack's volume, attached by hand to a server the janitor keeps.
    name = f"{PREFIX}-held"
    metadata = {"managed-by": "listserver", "stack": name, "created-at": OLD.isoformat()}
    volume = conn.block_storage.create_volume(name=f"{name}-data", size=1, metadata=metadata)
    conn.block_storage.wait_for_status(volume, "available", wait=120)
    keeper = conn.compute.find_server(stacks["fresh"])
    attachment = conn.compute.create_volume_attachment(keeper, volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, "in-use", wait=120)
    try:
        result = janitor(os_env, "DELETE=1")
        assert result.returncode != 0, result.stdout + result.stderr
        out = result.stdout.splitlines()
        assert any(line.startswith(f"failed to delete volume {name}-data ") for line in out), out
        assert out[-1] == "1 expired stack(s), 1 resource(s) deleted, 1 failure(s)", out
    finally:
        conn.compute.delete_volume_attachment(attachment, keeper)
        conn.block_storage.wait_for_status(volume, "available", wait=120)
        conn.block_storage.delete_volume(volume)


def test_a_refused_credential_stops_the_janitor(os_env: dict[str, str]) -> None:
    wrong = os_env | {"OS_APPLICATION_CREDENTIAL_SECRET": "not the secret"}
    result = janitor(wrong)
    assert result.returncode != 0
    assert result.stdout.startswith("authentication failed: the cloud refused the credentials")
