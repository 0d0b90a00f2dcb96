"""The firewall's allow-lists are checked before any rule is loaded (issue 16 item 1).

One value feeds the cloud security group and the host firewall, so the
preflight takes what Terraform takes, and the run over SSH stops before a
firewall that would refuse its next connection.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from helpers import ROOT


def load() -> ModuleType:
    path = ROOT / "plugins" / "filter" / "cidr_problems.py"
    spec = importlib.util.spec_from_file_location("cidr_problems", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["cidr_problems"] = module
    spec.loader.exec_module(module)
    return module


CIDRS = load()


def test_network_forms_of_both_families_pass() -> None:
    assert CIDRS.cidr_problems(["203.0.113.0/24", "0.0.0.0/0", "::/0", "2001:db8::/48"]) == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("203.0.113.7", "no prefix length"),
        ("203.0.113.7/24", "not a CIDR in network form"),
        ("203.0.113.300/24", "not a CIDR in network form"),
        ("2001:DB8::/32", "must be written 2001:db8::/32"),
        ("2001:db8:0::/32", "must be written 2001:db8::/32"),
        ("lists.example.org/32", "not a CIDR"),
    ],
)
def test_a_bad_entry_is_named_with_the_fix(value: str, says: str) -> None:
    problems = CIDRS.cidr_problems(["198.51.100.0/24", value])
    assert len(problems) == 1
    assert says in problems[0]
    assert repr(value) in problems[0]


def test_a_string_instead_of_a_list_is_refused() -> None:
    assert CIDRS.cidr_problems("0.0.0.0/0") == ["'0.0.0.0/0' is not a list of CIDRs"]


@pytest.mark.parametrize(
    ("address", "cidrs", "inside"),
    [
        ("203.0.113.7", ["203.0.113.0/24"], True),
        ("203.0.114.7", ["203.0.113.0/24"], False),
        ("2001:db8::7", ["203.0.113.0/24", "2001:db8::/48"], True),
        ("::ffff:203.0.113.7", ["203.0.113.0/24"], True),
        ("203.0.113.7", ["0.0.0.0/0"], True),
        ("2001:db8::7", ["0.0.0.0/0"], False),
        ("203.0.113.7", [], False),
        ("not-an-address", ["0.0.0.0/0"], False),
    ],
)
def test_address_in_cidrs(address: str, cidrs: list[str], inside: bool) -> None:
    assert CIDRS.address_in_cidrs(address, cidrs) is inside
