"""tools/openstack_preflight.py against the OpenStack double (127.0.0.1 only)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import load_script
from openstack_double import CloudState, OpenStackDouble  # tests/doubles, via conftest.py

# openstacksdk's deprecation notices about its own internal calls are noise here.
pytestmark = [
    pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK50Warning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK60Warning"),
]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "openstack_preflight.py"


preflight = load_script("openstack_preflight")


@pytest.fixture
def openstack_double(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenStackDouble]:
    """The double with a project that can hold one stack; OS_* point at it (password auth)."""
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    with OpenStackDouble(CloudState.infomaniak_like()) as double:
        for name, value in double.openrc_env().items():
            monkeypatch.setenv(name, value)
        yield double


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = preflight.main(list(args))
    return code, capsys.readouterr().out.splitlines()


def test_everything_present_passes_with_summary(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--key-name", "alice", "--volume-size", "20")
    assert code == 0, out
    assert len(out) == 1
    assert out[0].startswith("preflight ok: flavor a1-ram2-disk20-perf1 (1 vCPU, 2048 MB)")
    assert "key pair alice" in out[0]
    assert "volume gigabytes 0/1000 used" in out[0]


def test_application_credential_from_openrc(
    openstack_double: OpenStackDouble,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME"):
        monkeypatch.delenv(name)
    for name, value in openstack_double.openrc_env(application_credential=True).items():
        monkeypatch.setenv(name, value)
    code, out = run(capsys)
    assert code == 0, out


def test_clouds_yaml_selected_by_os_cloud(
    openstack_double: OpenStackDouble,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(openstack_double.clouds_yaml("infomaniak-test"))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.setenv("OS_CLOUD", "infomaniak-test")
    code, out = run(capsys)
    assert code == 0, out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--flavor", "a9-ram999"], "flavor not found: 'a9-ram999'"),
        (["--image", "Debian 14 forky"], "image not found: 'Debian 14 forky'"),
        (["--network", "ext-net9"], "network not found: 'ext-net9'"),
        (["--key-name", "bob laptop"], "key pair not found: 'bob laptop'"),
    ],
)
def test_missing_resource_is_named(
    openstack_double: OpenStackDouble,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    code, out = run(capsys, *args)
    assert code == 1
    assert expected in out


def test_every_missing_resource_gets_its_own_line(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    openstack_double.state.flavors.clear()
    openstack_double.state.images.clear()
    code, out = run(capsys, "--key-name", "nobody")
    assert code == 1
    assert out == [
        "flavor not found: 'a1-ram2-disk20-perf1'",
        "image not found: 'Debian 13 trixie'",
        "key pair not found: 'nobody'",
    ]


def test_exhausted_instance_and_ram_quota(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    limits = openstack_double.state.compute_limits
    limits["totalInstancesUsed"] = limits["maxTotalInstances"]
    limits["totalRAMUsed"] = limits["maxTotalRAMSize"] - 1024
    code, out = run(capsys)
    assert code == 1
    assert out == [
        "quota: instances exhausted (10 of 10 used, the stack needs 1 more)",
        "quota: RAM (MB) exhausted (50176 of 51200 used, the stack needs 2048 more)",
    ]


def test_volume_quota_checked_only_when_a_volume_is_asked(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    openstack_double.state.volume_limits["totalGigabytesUsed"] = 990
    code, out = run(capsys)
    assert code == 0, out
    assert not any("/volume/" in path for _, path in openstack_double.state.requests)
    code, out = run(capsys, "--volume-size", "20")
    assert code == 1
    assert out == ["quota: volume gigabytes exhausted (990 of 1000 used, the stack needs 20 more)"]


def test_unlimited_quota_passes(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    openstack_double.state.compute_limits.update(
        maxTotalInstances=-1, maxTotalCores=-1, maxTotalRAMSize=-1
    )
    code, out = run(capsys)
    assert code == 0, out
    assert "instances unlimited" in out[0]


def test_bad_credentials_give_a_clear_message(
    openstack_double: OpenStackDouble,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OS_PASSWORD", "wrong")
    code, out = run(capsys)
    assert code == 1
    assert out == [
        "authentication failed: the cloud refused the credentials (check OS_* / clouds.yaml)"
    ]


def test_no_credentials_at_all(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml")
    code, out = run(capsys)
    assert code == 1
    assert len(out) == 1
    assert out[0].startswith("configuration: ")


def test_command_line_exit_codes(openstack_double: OpenStackDouble) -> None:
    ok = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False, timeout=60
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    missing = subprocess.run(
        [sys.executable, str(SCRIPT), "--network", "nope"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert missing.returncode == 1
    assert missing.stdout == "network not found: 'nope'\n"
