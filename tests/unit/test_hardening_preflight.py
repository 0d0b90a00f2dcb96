"""The host hardening's inputs are checked before any host changes (issue 16).

The firewall's allow-lists take what the cloud security group takes, and a
journal retention shorter than the quota window is refused. The check that
the SSH client stays allowed needs a run over SSH: molecule/default and the
role's README cover it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_preflight import run_preflight as preflight


def run_preflight(tmp_path: Path, overrides: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """The preflight for one host in the groups of a real inventory (listserver's children)."""
    hardened = {"listserver_hardening_enabled": True, **overrides}
    return preflight(tmp_path, hardened, parent="listserver")


def test_allow_lists_in_network_form_pass(tmp_path: Path) -> None:
    result = run_preflight(
        tmp_path,
        {
            "listserver_ssh_allowed_cidrs": ["203.0.113.0/24", "2001:db8::/48"],
            "listserver_web_allowed_cidrs": ["0.0.0.0/0", "::/0"],
            "hardening_journald_max_retention": "90d",
        },
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"listserver_ssh_allowed_cidrs": ["203.0.113.7/24"]}, "'203.0.113.7/24' is not a CIDR"),
        ({"listserver_ssh_allowed_cidrs": ["203.0.113.7"]}, "'203.0.113.7' has no prefix length"),
        ({"listserver_web_allowed_cidrs": ["2001:DB8::/32"]}, "must be written 2001:db8::/32"),
        ({"listserver_web_allowed_cidrs": []}, "hardening_web_allowed_cidrs must not be empty"),
        ({"hardening_journald_max_retention": "12h"}, "no shorter than the quota window"),
        ({"hardening_journald_max_use": "64M"}, "at least 256M"),
    ],
)
def test_bad_hardening_input_stops_the_run_naming_the_fix(
    tmp_path: Path, overrides: dict[str, Any], named: str
) -> None:
    result = run_preflight(tmp_path, overrides)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    assert named in output, output[-3000:]
