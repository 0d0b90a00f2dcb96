# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the mailman_lists role: the members of a list's members_file, and its problems."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: mailman_members_file
short_description: The members listed in a Mailman list's members file
description:
  - Reads a members file on the controller and returns its members, one a
    line; blank lines and lines starting with C(#) are skipped.
  - A relative path is relative to O(base_dir) (the inventory directory).
  - The same plugin file provides C(mailman_members_file_problems), which the
    role's preflight uses; it returns one message per problem (a file that
    cannot be read, a line that is not an address), naming the list and the file.
  - And C(mailman_lists_module_args(definitions, default_settings, base_dir)),
    which turns the role's list definitions into the O(lists) of
    M(listserver.mailman3.mailman_lists) - each list's settings over the
    defaults, its members file's members after its members, the role's
    own keys left out.
version_added: "0.1.0"
author: listserver maintainers (@listserver)
positional: base_dir
options:
  _input:
    description: Path of the members file.
    type: path
    required: true
  base_dir:
    description: Directory of relative paths.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Ensure the list with the members of its file
  listserver.mailman3.mailman_list:
    name: newsletter
    domain: example.org
    owners: [alice@example.org]
    members: "{{ 'newsletter.txt' | listserver.mailman3.mailman_members_file(inventory_dir) }}"
    rest_password: "{{ vault_mailman_rest_password }}"
"""

RETURN = r"""
_value:
  description: The members, in file order.
  type: list
  elements: str
"""

import os
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_list import (
    SHOWN,
    members_file_lines,
    parse_person,
)


def members_path(path: str, base_dir: str) -> str:
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(path)))


def read_members(path: str, base_dir: str) -> list[str]:
    """The members of the file; OSError when it cannot be read."""
    with open(members_path(path, base_dir), encoding="utf-8") as handle:
        return members_file_lines(handle.read())


def mailman_members_file(path: str, base_dir: str) -> list[str]:
    try:
        return read_members(str(path), str(base_dir))
    except (OSError, UnicodeDecodeError) as err:
        raise AnsibleFilterError(f"members_file {path}: cannot be read ({err})") from None


def mailman_members_file_problems(definitions: list[Any], base_dir: str) -> list[str]:
    """One message per list whose members_file is missing, unreadable or has a non-address."""
    problems = []
    for entry in definitions or []:
        if not isinstance(entry, Mapping) or not entry.get("members_file"):
            continue
        where = f"mailman_lists_definitions entry '{entry.get('name')}@{entry.get('domain')}'"
        path = members_path(str(entry["members_file"]), str(base_dir))
        try:
            members = read_members(path, str(base_dir))
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            problems.append(
                f"{where}: members_file {path} cannot be read ({reason}); a relative path "
                f"is relative to the inventory directory, {base_dir}"
            )
            continue
        bad = []
        for member in members:
            try:
                parse_person(member, "member")
            except ValueError:
                bad.append(member)
        if bad:
            more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
            problems.append(
                f"{where}: members_file {path} has lines that are not an e-mail address "
                f"({len(bad)}): {' | '.join(bad[:SHOWN])}{more}; one address (or "
                f"'Display Name <address>') a line, # for comments"
            )
    return problems


# The keys of a definition that mailman_lists takes as they are.
PASSED = ("name", "domain", "state", "description", "owners", "moderators", "members_exclusive")


def mailman_lists_module_args(
    definitions: list[Any], default_settings: Mapping[str, Any], base_dir: str
) -> list[dict[str, Any]]:
    """The role's definitions as mailman_lists' ``lists``."""
    lists = []
    for entry in definitions or []:
        args = {key: entry[key] for key in PASSED if entry.get(key) is not None}
        args["settings"] = {**default_settings, **(entry.get("settings") or {})}
        members = list(entry.get("members") or [])
        if entry.get("members_file"):
            members += mailman_members_file(str(entry["members_file"]), base_dir)
        args["members"] = members
        lists.append(args)
    return lists


class FilterModule:
    """mailman_members_file, mailman_members_file_problems, mailman_lists_module_args."""

    def filters(self) -> dict[str, Any]:
        return {
            "mailman_members_file": mailman_members_file,
            "mailman_members_file_problems": mailman_members_file_problems,
            "mailman_lists_module_args": mailman_lists_module_args,
        }
