"""Shared helpers of the list server's verify step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml
from labkit.hosts import run_python as run_python

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
