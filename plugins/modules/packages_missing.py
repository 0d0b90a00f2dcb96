#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: which of some Debian packages are not installed yet."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: packages_missing
short_description: Tell which Debian packages are not installed yet
description:
  - Asks C(dpkg-query) which of O(names) are not fully installed, in a few
    milliseconds, so that a role calls C(ansible.builtin.apt) (which opens its
    cache for about a second even when nothing is missing) only when needed.
  - Only reads; it never changes the host, in check mode too.
version_added: "0.1.0"
author: listserver maintainers (@listserver)
options:
  names:
    description: Names of binary packages, without version or architecture.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    description: Can run in check mode and return the same answer.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Look for packages that are not installed yet
  listserver.mailman3.packages_missing:
    names: [postfix, postfix-pcre]
  register: __postfix_packages
  check_mode: false

- name: Install the packages
  ansible.builtin.apt:
    name: "{{ __postfix_packages.missing }}"
  when: __postfix_packages.missing | length > 0
"""

RETURN = r"""
missing:
  description: The packages of O(names) that are not installed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [postfix-pcre]
"""

from ansible.module_utils.basic import AnsibleModule

FORMAT = "${Package}=${db:Status-Status}\\n"


def installed(dpkg_output: str) -> set[str]:
    """The names dpkg-query reported as installed."""
    found: set[str] = set()
    for line in dpkg_output.splitlines():
        name, _sep, status = line.partition("=")
        if status.strip() == "installed":
            found.add(name.strip())
    return found


def main() -> None:
    module = AnsibleModule(
        argument_spec={"names": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    names: list[str] = module.params["names"]
    if not names:
        module.exit_json(changed=False, missing=[])
    rc, out, err = module.run_command(["dpkg-query", "--show", f"--showformat={FORMAT}", *names])
    # dpkg-query exits 1 when a package was never known here: that one is missing.
    if rc > 1:
        module.fail_json(msg=f"dpkg-query failed (rc={rc}): {err.strip()}")
    found = installed(out)
    module.exit_json(changed=False, missing=[name for name in names if name not in found])


if __name__ == "__main__":
    main()
