"""Post-deploy smoke tests: options and what the inventory says the host should be.

Run against any deployed list server, given its inventory (see README.md):

    pytest tests/smoke --hosts=ansible://listserver --ansible-inventory=clients/acme/inventory

The expected values (FQDN, TLS mode, lists, relay, intake) are the variables the roles
received, templated by Ansible from the inventory and the roles' defaults and
wiring (`expected.yml`, a playbook that connects nowhere); an encrypted vault in
the inventory needs ANSIBLE_VAULT_PASSWORD_FILE.
No secret leaves the host: checks that need the REST API read its credentials there.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra
from labkit.hosts import run_python as run_python

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("listserver smoke tests")
    group.addoption(
        "--ca-bundle",
        help="verify the HTTPS certificate against this CA bundle (default: the system's; "
        "with listserver_tls_mode selfsigned: pinned to the certificate the host serves)",
    )
    group.addoption(
        "--web-address",
        help="address the tests reach the host's public side at (default: ansible_host "
        "when it is an IP address, else the host's own address on its default route)",
    )
    group.addoption(
        "--inventory-host",
        help="inventory host whose variables apply (default: the host under test's name; "
        "needed with ssh:// hosts given by address)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a target these tests would probe the machine running them: refuse."""
    if not config.getoption("hosts") and any(HERE in item.path.parents for item in items):
        raise pytest.UsageError(
            "the smoke tests need a target: --hosts=ansible://listserver "
            "--ansible-inventory=<inventory> (make smoke CLIENT=<name>)"
        )


@dataclass(frozen=True)
class Expected:
    """What the inventory says the host under test should be."""

    name: str
    groups: frozenset[str]
    ansible_host: str
    fqdn: str
    tls_mode: str
    lists: tuple[dict[str, Any], ...]
    relay_host: str
    intake: bool

    def require_group(self, group: str) -> None:
        """Skip a check that belongs to hosts of another group."""
        if group not in self.groups:
            pytest.skip(f"{self.name} is not in group {group}")


def read_expected(inventory: str | None, name: str) -> Expected:
    """Template expected.yml for one inventory host with ansible (no connection is made)."""
    argv = ["ansible-playbook", str(HERE / "expected.yml"), "--limit", name]
    argv += ["-i", inventory] if inventory else []
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        **os.environ,
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
    }
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    try:
        hosts = json.loads(result.stdout)["plays"][0]["tasks"][-1]["hosts"]
        view = hosts[name]["smoke_expected"]
    except (ValueError, LookupError, TypeError):
        pytest.fail(
            f"cannot read the inventory's values for {name!r} ({shlex.join(argv)}):\n"
            f"{result.stderr.strip() or result.stdout.strip()}\n"
            "Give the inventory with --ansible-inventory, the host with --inventory-host, "
            "and an encrypted vault's password with ANSIBLE_VAULT_PASSWORD_FILE."
        )
    return Expected(
        name=name,
        groups=frozenset(view["groups"]),
        ansible_host=str(view["ansible_host"]),
        fqdn=str(view["fqdn"]),
        tls_mode=str(view["tls_mode"]),
        lists=tuple(view["lists"]),
        relay_host=str(view["relay_host"]),
        intake=bool(view["intake"]),
    )


_EXPECTED: dict[str, Expected] = {}


@pytest.fixture
def expected(host: testinfra.host.Host, request: pytest.FixtureRequest) -> Expected:
    name = request.config.getoption("inventory_host") or host.backend.get_hostname()
    if name not in _EXPECTED:
        _EXPECTED[name] = read_expected(request.config.getoption("ansible_inventory"), name)
    return _EXPECTED[name]


@pytest.fixture
def web_address(
    host: testinfra.host.Host, expected: Expected, request: pytest.FixtureRequest
) -> str:
    """Where the outside world reaches this host (the cloud gives it its public address)."""
    given: str | None = request.config.getoption("web_address")
    if given:
        return given
    try:
        return str(ipaddress.ip_address(expected.ansible_host))
    except ValueError:
        pass
    route = host.run("ip -j route get 192.0.2.1")
    assert route.rc == 0, route.stderr
    return str(json.loads(route.stdout)[0]["prefsrc"])


@pytest.fixture
def ca_bundle(request: pytest.FixtureRequest) -> str | None:
    value: str | None = request.config.getoption("ca_bundle")
    return value
