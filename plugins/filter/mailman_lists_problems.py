# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter of the mailman_lists role's preflight: what is wrong with the list definitions."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: mailman_lists_problems
short_description: What is wrong with Mailman list definitions
description:
  - Checks every entry of C(mailman_lists_definitions) for what would otherwise
    break in the middle of a run (a string where a list of addresses belongs, a
    member without an address, a name Mailman or the mail provider refuses) or
    later in the mail flow (a list on an address the site already uses), and
    returns one message per problem, naming the entry and what to change.
    Empty when all is well.
version_added: "0.2.0"
author: listserver maintainers (@listserver)
options:
  _input:
    description: The list definitions.
    type: list
    elements: raw
    required: true
  domains:
    description: The only mail domains a list may have; empty allows any.
    type: list
    elements: str
    default: []
  reserved_local_parts:
    description:
      - Local parts no list (nor its -owner, -request, ... addresses) may take, on any domain.
    type: list
    elements: str
    default: []
  reserved_addresses:
    description: Full addresses no list (nor its -owner, -request, ... addresses) may take.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Check the list definitions
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
  vars:
    __problems: >-
      {{ mailman_lists_definitions | listserver.mailman3.mailman_lists_problems(
           domains=['example.org'], reserved_local_parts=['postorius', 'noreply']) }}
"""

RETURN = r"""
_value:
  description: One message per problem.
  type: list
  elements: str
"""

import re
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

# The same name rules as the modules, so the preflight refuses what they would.
from ansible_collections.listserver.mailman3.plugins.module_utils.provider_aliases import (
    LIST_NAME,
    MAILMAN_SUFFIXES,
    MAX_LIST_NAME,
)

DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PEOPLE = ("owners", "moderators", "members")


def kind(value: object) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if value is None:
        return "empty (null)"
    return f"a {type(value).__name__}"


def name_problems(name: object) -> list[str]:
    if (
        isinstance(name, str)
        and LIST_NAME.match(name)
        and len(name) <= MAX_LIST_NAME
        and not name.endswith(tuple(f"-{suffix}" for suffix in MAILMAN_SUFFIXES))
    ):
        return []
    return [
        f"the name must be 1 to {MAX_LIST_NAME} lowercase letters, digits, '.', '_' or '-', "
        f"start with a letter or digit, not end with '.' or hold '..', and must not end "
        f"in a Mailman suffix such as -bounces or -owner."
    ]


def people_problems(field: str, value: object, required: bool) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        return [
            f"{field} must be a list of e-mail addresses, for example "
            f"{field}: [alice@example.org] (got {kind(value)})."
        ]
    problems = []
    addresses = []
    for index, item in enumerate(value, start=1):
        if field == "members" and isinstance(item, Mapping):
            if not isinstance(item.get("address"), str):
                problems.append(
                    f"members entry {index} has no address (give address: and display_name:)."
                )
                continue
            if not isinstance(item.get("display_name", ""), str):
                problems.append(f"members entry {index}: display_name must be a string.")
            addresses.append(item["address"])
        elif isinstance(item, str):
            # "Display Name <address>" names a member, as mailman_list reads it.
            named = field == "members" and "<" in item
            addresses.append(parseaddr(item)[1] or item if named else item)
        else:
            problems.append(f"{field} entry {index} must be an e-mail address (got {kind(item)}).")
    bad = [address for address in addresses if not ADDRESS.match(address)]
    if bad:
        problems.append(f"{field}: not e-mail addresses: {', '.join(bad)}.")
    if required and len(bad) == len(addresses):
        problems.append(f"{field} must list at least one e-mail address.")
    return problems


def entry_problems(
    entry: Mapping[str, Any],
    domains: list[str],
    reserved_local_parts: list[str],
    reserved_addresses: list[str],
) -> list[str]:
    name, domain = entry.get("name"), entry.get("domain")
    problems = name_problems(name)
    if not isinstance(domain, str) or not DOMAIN.match(domain):
        problems.append("the domain must be a lowercase domain name such as example.org.")
    elif domains and domain not in domains:
        problems.append(
            f"the domain must be {' or '.join(domains)} (mailman_lists_domains): all mail goes "
            f"through the one mailbox of that domain; several domains are not supported yet."
        )
    if not problems and isinstance(name, str) and isinstance(domain, str):
        locals_ = [name] + [f"{name}-{suffix}" for suffix in MAILMAN_SUFFIXES]
        for local in locals_:
            address = f"{local}@{domain}"
            if local in reserved_local_parts:
                problems.append(
                    f"{address} is reserved (mailman_lists_reserved_local_parts: the web UI's "
                    f"sender, Mailman's noreply address): give the list another name."
                )
            elif address in reserved_addresses:
                problems.append(
                    f"{address} is reserved (mailman_lists_reserved_addresses: the mailbox's "
                    f"own address or the site owner's, mailman_core_site_owner / "
                    f"listserver_admin_email): give the list another name or the site "
                    f"another owner address."
                )
    for field in PEOPLE:
        problems += people_problems(field, entry.get(field), required=field == "owners")
    if not isinstance(entry.get("settings", {}), Mapping):
        problems.append(
            f"settings must be a mapping of Mailman settings, for example "
            f"settings: {{advertised: false}} (got {kind(entry.get('settings'))})."
        )
    if not isinstance(entry.get("description", ""), str):
        problems.append("description must be a string.")
    if entry.get("state", "present") not in ("present", "absent"):
        problems.append("state must be present or absent.")
    return problems


def mailman_lists_problems(
    definitions: Any,
    domains: list[str] | None = None,
    reserved_local_parts: list[str] | None = None,
    reserved_addresses: list[str] | None = None,
) -> list[str]:
    if not isinstance(definitions, list):
        return [f"mailman_lists_definitions must be a list of lists (got {kind(definitions)})."]
    domains = [str(d).lower() for d in domains or []]
    local_parts = [str(p).lower() for p in reserved_local_parts or []]
    addresses = [str(a).lower() for a in reserved_addresses or [] if a]
    problems: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(definitions, start=1):
        if not isinstance(entry, Mapping):
            problems.append(
                f"mailman_lists_definitions entry #{index} must be a mapping with name, domain "
                f"and owners (got {kind(entry)})."
            )
            continue
        address = f"{entry.get('name', '?')}@{entry.get('domain', '?')}"
        where = f"mailman_lists_definitions entry '{address}':"
        if address in seen:
            problems.append(f"{where} declared more than once.")
        seen.add(address)
        problems += [
            f"{where} {problem}"
            for problem in entry_problems(entry, domains, local_parts, addresses)
        ]
    return problems


class FilterModule:
    """mailman_lists_problems."""

    def filters(self) -> dict[str, Any]:
        return {"mailman_lists_problems": mailman_lists_problems}
