#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the check_secrets action plugin (plugins/action/check_secrets.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: check_secrets
short_description: Check that secret variables can be read, without printing them
description:
  - Reads each named variable on the controller and fails, naming the variable but
    never showing its value, when its value cannot be used as the secret's text.
  - >-
    A value containing C({{), C({%) or C({#) is read by Ansible as a template, which
    fails (or silently becomes something else) and makes Ansible print the value in
    its error. Such a secret must be written C(!unsafe '...') in the vault.
  - >-
    A value that YAML reads as a number, a boolean, null, a list or a mapping
    (C(0123), C(yes), an empty value) is not the text that was typed: it must be quoted.
  - Runs on the controller only (action plugin); supports check mode.
version_added: "0.2.0"
author: listserver maintainers (@listserver)
options:
  names:
    description:
      - Variables to check. C(name[].key) checks the key C(key) of every item of
        the list variable C(name) (for example C(postgresql_databases[].password)).
    type: list
    elements: str
    required: true
  ascii:
    description:
      - Variables (same syntax as O(names)) that must also hold printable ASCII only,
        such as a password sent in HTTP Basic auth.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show a difference of.
    support: none
notes:
  - The message names the variable and says what to change; the value is never shown.
"""

EXAMPLES = r"""
- name: Check the secrets before anything uses them
  listserver.mailman3.check_secrets:
    names:
      - mailman_core_db_password
      - postgresql_databases[].password
    ascii:
      - mailman_core_rest_password
"""

RETURN = r"""
checked:
  description: The names that were checked.
  type: list
  elements: str
  returned: always
"""
