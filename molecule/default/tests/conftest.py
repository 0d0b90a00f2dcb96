"""Shared helpers of the list server's verify step."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml

SCENARIO = Path(__file__).resolve().parent.parent


class VarsLoader(yaml.SafeLoader):
    """Reads Ansible's !unsafe (a literal string) like a plain string."""


VarsLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


@pytest.fixture(scope="session")
def lab_vars() -> dict[str, Any]:
    """The inventory values the scenario converged with."""
    path = SCENARIO / "group_vars/all/listserver.yml"
    return yaml.load(path.read_text(), Loader=VarsLoader)  # noqa: S506 - SafeLoader subclass


@pytest.fixture
def fqdn(host: testinfra.host.Host) -> str:
    return host.backend.get_hostname()


def run_python(host: testinfra.host.Host, code: str, **env: str) -> Any:
    """Run a Python snippet on the host; it prints JSON, which is returned.

    Values travel in the environment so no quoting can break them.
    """
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    result = host.run(f"env {assignments} python3 -c {shlex.quote(code)}")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)
