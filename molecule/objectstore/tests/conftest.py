"""Shared helpers of the object storage stand-in's verify step.

The client uses only what a list server gets: the application credential, as OS_*
variables in a root-only environment file that its shell sources. No secret is ever
put on a command line.
"""

from __future__ import annotations

import json
import shlex
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml

SCENARIO = Path(__file__).resolve().parent.parent
CLOUD = "cloud.objectstore.lab.test"
CLIENT = "client.objectstore.lab.test"


@pytest.fixture(scope="session")
def lab() -> dict[str, Any]:
    """The inventory values the scenario converged with."""
    return yaml.safe_load((SCENARIO / "group_vars/all/objectstore.yml").read_text())


@pytest.fixture(scope="session")
def cloud() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{CLOUD}")


@pytest.fixture(scope="session")
def client() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{CLIENT}")


@pytest.fixture(scope="session")
def credential(cloud: testinfra.host.Host, lab: dict[str, Any]) -> dict[str, Any]:
    """The credential file the stand-in wrote (read as root on the stand-in)."""
    return json.loads(cloud.file(lab["objectstore_standin_credential_file"]).content_string)


def sourced(env_file: str, argv: list[str]) -> str:
    """A shell command running argv with env_file's variables exported."""
    return f"set -a; . {shlex.quote(env_file)}; set +a; exec {shlex.join(argv)}"


def cloud_logs(cloud: testinfra.host.Host) -> str:
    keystone = cloud.run("tail -n 30 /var/log/keystone/keystone.log").stdout
    proxy = cloud.run("journalctl -u swift-proxy --no-pager -n 30").stdout
    return f"--- keystone.log\n{keystone}\n--- swift-proxy journal\n{proxy}"


@pytest.fixture
def run_client(
    client: testinfra.host.Host, cloud: testinfra.host.Host, lab: dict[str, Any]
) -> Callable[..., Any]:
    """Run argv on the client with an environment file sourced.

    Returns testinfra's result; ``check=True`` fails the test with the stand-in's logs.
    """

    def run(argv: list[str], env_file: str | None = None, check: bool = True) -> Any:
        result = client.run(sourced(env_file or lab["lab_objectstore_env_file"], argv))
        if check and result.rc != 0:
            pytest.fail(
                f"{shlex.join(argv)} failed ({result.rc}):\n{result.stdout}\n{result.stderr}\n"
                f"{cloud_logs(cloud)}"
            )
        return result

    return run


@pytest.fixture(scope="session")
def repository(lab: dict[str, Any]) -> str:
    """A fresh restic repository in the container, one per test session."""
    return f"swift:{lab['objectstore_standin_container']}:/lab-{uuid.uuid4().hex[:12]}"
