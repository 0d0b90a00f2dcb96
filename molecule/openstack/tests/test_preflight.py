"""tools/openstack_preflight.py against the stand-in: what the project has, what it lacks."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT


def preflight(os_env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "openstack_preflight.py"), *options],
        env=os_env | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_preflight_passes_for_the_lab_clients_stack(os_env: dict[str, str]) -> None:
    result = preflight(os_env, "--volume-size", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("preflight ok: ")
    assert "flavor a1-ram2-disk20-perf1 (1 vCPU, 2048 MB)" in result.stdout
    assert "network ext-net1" in result.stdout


def test_preflight_names_each_thing_the_project_lacks(os_env: dict[str, str]) -> None:
    result = preflight(
        os_env,
        *("--flavor", "a9-ram64-disk20-perf1", "--image", "Debian 99 nowhere"),
        *("--network", "ext-net9", "--key-name", "nobody"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert {
        "flavor not found: 'a9-ram64-disk20-perf1'",
        "image not found: 'Debian 99 nowhere'",
        "network not found: 'ext-net9'",
        "key pair not found: 'nobody'",
    } <= set(result.stdout.splitlines())


def test_preflight_stops_a_volume_the_quota_cannot_hold(os_env: dict[str, str]) -> None:
    # Cinder's default quota: 1000 GB per project.
    result = preflight(os_env, "--volume-size", "5000")
    assert result.returncode == 1, result.stdout + result.stderr
    pattern = r"quota: volume gigabytes exhausted \(\d+ of 1000 used, the stack needs 5000 more\)"
    assert re.search(pattern, result.stdout), result.stdout


def test_preflight_reports_a_refused_credential(os_env: dict[str, str]) -> None:
    wrong = os_env | {"OS_APPLICATION_CREDENTIAL_SECRET": "not the secret"}
    result = preflight(wrong)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("authentication failed: the cloud refused the credentials")
