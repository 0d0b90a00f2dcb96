"""tools/openstack_preflight.py against the stand-in: what the project has, what it lacks,
what its quotas leave, with each form of credential an operator has."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, stand_in_cloud


def preflight(env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "openstack_preflight.py"), *options],
        env=env | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


@pytest.fixture
def key_pair(conn: Any, public_key: str) -> Iterator[str]:
    conn.compute.create_keypair(name="preflight laptop", public_key=public_key)
    yield "preflight laptop"
    conn.compute.delete_keypair("preflight laptop", ignore_missing=True)


@pytest.fixture
def quotas(admin_conn: Any, credential: dict[str, Any]) -> Iterator[Any]:
    """Set the tenant's quotas as the admin; the defaults come back afterwards."""
    project = credential["project_id"]
    compute = admin_conn.get_compute_quotas(project)
    volume = admin_conn.get_volume_quotas(project)

    def set_quotas(**limits: int) -> None:
        volume_limits = {k: v for k, v in limits.items() if k == "gigabytes"}
        compute_limits = {k: v for k, v in limits.items() if k != "gigabytes"}
        if compute_limits:
            admin_conn.set_compute_quotas(project, **compute_limits)
        if volume_limits:
            admin_conn.set_volume_quotas(project, **volume_limits)

    yield set_quotas
    admin_conn.set_compute_quotas(
        project, instances=compute.instances, cores=compute.cores, ram=compute.ram
    )
    admin_conn.set_volume_quotas(project, gigabytes=volume.gigabytes)


def test_preflight_passes_for_the_lab_clients_stack(os_env: dict[str, str], key_pair: str) -> None:
    result = preflight(os_env, "--key-name", key_pair, "--volume-size", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(lines(result)) == 1, result.stdout
    summary = result.stdout
    assert summary.startswith("preflight ok: flavor a1-ram2-disk20-perf1 (1 vCPU, 2048 MB)")
    assert "network ext-net1" in summary
    assert f"key pair {key_pair}" in summary
    assert re.search(r"volume gigabytes \d+/1000 used", summary), summary


def test_preflight_reads_clouds_yaml_with_a_users_password(
    os_env: dict[str, str], credential: dict[str, Any], tmp_path: Path
) -> None:
    tenant = stand_in_cloud("/etc/openstack/clouds-tenant.yaml", credential["auth_url"])
    assert "password" in tenant["auth"]
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {"infomaniak-lab": tenant}}))
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "infomaniak-lab"}
    result = preflight(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("preflight ok: ")


def test_preflight_names_each_thing_the_project_lacks(os_env: dict[str, str]) -> None:
    result = preflight(
        os_env,
        *("--flavor", "a9-ram64-disk20-perf1", "--image", "Debian 99 nowhere"),
        *("--network", "ext-net9", "--key-name", "bob laptop"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert lines(result) == [
        "flavor not found: 'a9-ram64-disk20-perf1'",
        "image not found: 'Debian 99 nowhere'",
        "network not found: 'ext-net9'",
        "key pair not found: 'bob laptop'",
    ]


def test_preflight_stops_a_volume_the_quota_cannot_hold(os_env: dict[str, str]) -> None:
    # Cinder's default quota: 1000 GB per project.
    result = preflight(os_env, "--volume-size", "5000")
    assert result.returncode == 1, result.stdout + result.stderr
    pattern = r"quota: volume gigabytes exhausted \(\d+ of 1000 used, the stack needs 5000 more\)"
    assert re.fullmatch(pattern, result.stdout.strip()), result.stdout


def test_preflight_stops_when_instances_and_ram_are_exhausted(
    os_env: dict[str, str], quotas: Any, conn: Any
) -> None:
    used = conn.compute.get_limits().absolute
    instances, ram = used.instances_used, used.total_ram_used
    quotas(instances=instances, ram=ram + 1024)
    result = preflight(os_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert lines(result) == [
        f"quota: instances exhausted ({instances} of {instances} used, the stack needs 1 more)",
        f"quota: RAM (MB) exhausted ({ram} of {ram + 1024} used, the stack needs 2048 more)",
    ]


def test_preflight_checks_the_volume_quota_only_when_a_volume_is_asked(
    os_env: dict[str, str], quotas: Any, conn: Any
) -> None:
    used = conn.block_storage.get_limits().absolute.total_gigabytes_used
    quotas(gigabytes=used)
    without = preflight(os_env)
    assert without.returncode == 0, without.stdout + without.stderr
    assert "volume" not in without.stdout
    with_volume = preflight(os_env, "--volume-size", "20")
    assert with_volume.returncode == 1
    assert lines(with_volume) == [
        f"quota: volume gigabytes exhausted ({used} of {used} used, the stack needs 20 more)"
    ]


def test_preflight_passes_unlimited_quotas(os_env: dict[str, str], quotas: Any) -> None:
    quotas(instances=-1, cores=-1, ram=-1)
    result = preflight(os_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "instances unlimited" in result.stdout


def test_preflight_reports_a_refused_credential(os_env: dict[str, str]) -> None:
    wrong = os_env | {"OS_APPLICATION_CREDENTIAL_SECRET": "not the secret"}
    result = preflight(wrong)
    assert result.returncode == 1, result.stdout + result.stderr
    assert lines(result) == [
        "authentication failed: the cloud refused the credentials (check OS_* / clouds.yaml)"
    ]
