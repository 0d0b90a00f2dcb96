"""Checks of the firewall's allow-lists (roles/hardening).

- ``cidr_problems``: the entries of a list that are not an IPv4 or IPv6 CIDR
  in network form with a prefix length (203.0.113.0/24, 2001:db8::/48): the
  form the cloud security group takes (terraform/modules/secgroup), so one
  value serves both.
- ``address_in_cidrs``: whether an address (the SSH client Ansible is
  connected from) is inside one of the CIDRs.
"""

from __future__ import annotations

import ipaddress
from typing import Any

DOCUMENTATION = """
name: cidr_problems
short_description: The entries of a list that are not CIDRs in network form
description:
  - Returns one message per entry that is not an IPv4 or IPv6 CIDR with a prefix length,
    written in its network form with lower-case, compressed IPv6 (as OpenStack stores it).
  - The same file holds C(address_in_cidrs), true when an address is inside one of a list of CIDRs.
options:
  _input:
    description: The CIDRs.
    type: list
    elements: str
    required: true
"""

EXAMPLES = """
problems: "{{ hardening_ssh_allowed_cidrs | listserver.mailman3.cidr_problems }}"
allowed: "{{ '203.0.113.7' | listserver.mailman3.address_in_cidrs(['203.0.113.0/24']) }}"
"""

RETURN = """
_value:
  description: One message per bad entry; empty when every entry is good.
  type: list
  elements: str
"""


def cidr_problems(values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, list):
        return [f"{values!r} is not a list of CIDRs"]
    problems = []
    for value in values:
        text = str(value)
        if "/" not in text:
            problems.append(f"{text!r} has no prefix length (write {text}/32 or {text}/128)")
            continue
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as error:
            problems.append(f"{text!r} is not a CIDR in network form ({error})")
            continue
        if str(network) != text:
            problems.append(f"{text!r} must be written {network}")
    return problems


def address_in_cidrs(address: Any, cidrs: Any) -> bool:
    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for cidr in cidrs or []:
        try:
            if ip in ipaddress.ip_network(str(cidr), strict=False):
                return True
        except ValueError:
            continue
    return False


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"cidr_problems": cidr_problems, "address_in_cidrs": address_in_cidrs}
