#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: ensure many Mailman 3 mailing lists in one run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mailman_lists
short_description: Ensure Mailman 3 mailing lists, their domains, settings and people
description:
  - What M(listserver.mailman3.mailman_list) does for one list, for every list
    in O(lists), in one task. Every list is read and planned before anything
    is written, so a mistake in any list stops the run before the first change.
  - With O(mailman_config), the rosters of all lists are read in one process,
    and the lists' long subscriptions made in one more, by Mailman's own
    Python API; fifty lists cost a second or two, not fifty module runs.
version_added: "0.1.0"
author: listserver maintainers (@listserver)
options:
  lists:
    description: The lists, each described as M(listserver.mailman3.mailman_list)
      describes one (see there for what each option does).
    type: list
    elements: dict
    required: true
    suboptions:
      name: {type: str, required: true, description: "Local part of the list address."}
      domain: {type: str, required: true, description: "Mail domain, created when missing."}
      state: {type: str, choices: [present, absent], default: present,
              description: "Whether the list exists."}
      description: {type: str, description: "Short description shown in the list index."}
      settings: {type: dict, default: {},
                 description: "List settings by their REST API names; only these are compared."}
      owners: {type: list, elements: str, default: [], description: "Owner addresses."}
      moderators: {type: list, elements: str, default: [], description: "Moderator addresses."}
      members: {type: list, elements: raw, default: [],
                description: "Members: an address, C(Name <address>), or a dict with C(address)
                  and C(display_name)."}
      members_exclusive: {type: bool, default: false,
                          description: "Unsubscribe members not in O(lists[].members)."}
      exclusive_roles: {type: bool, default: false,
                        description: "Remove owners and moderators not listed."}
extends_documentation_fragment:
  - listserver.mailman3.mailman_connection
notes:
  - Supports check mode (everything is read, nothing is written) and diff mode
    (each changed list's managed settings and rosters, before and after).
seealso:
  - module: listserver.mailman3.mailman_list
"""

EXAMPLES = r"""
- name: Ensure the lists
  listserver.mailman3.mailman_lists:
    lists:
      - name: team
        domain: example.org
        owners: [alice@example.org]
        members: [carol@example.net]
      - name: announce
        domain: example.org
        owners: [alice@example.org]
        settings:
          advertised: false
    rest_password: "{{ vault_mailman_rest_password }}"
    mailman_config: /etc/mailman3/mailman.cfg
"""

RETURN = r"""
lists:
  description: Per list, by list id, what was (or would be) changed, added and removed.
  type: dict
  returned: always
  sample: {"team.example.org": {"changes": ["add 1 member: carol@example.net"],
           "added": {"owner": [], "moderator": [], "member": ["carol@example.net"]},
           "removed": {"owner": [], "moderator": [], "member": []}}}
changes:
  description: Every change, one line per kind of change, prefixed with its list.
  type: list
  elements: str
  returned: always
  sample: ["team@example.org: add 1 member: carol@example.net"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_list import (
    CONNECTION_OPTIONS,
    FAILURES,
    LIST_OPTIONS,
    Wanted,
    client_for,
    ensure_all,
    failure_message,
)


def main() -> None:
    spec = {
        "lists": {"type": "list", "elements": "dict", "required": True, "options": LIST_OPTIONS},
        **CONNECTION_OPTIONS,
    }
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        wanted = [Wanted.from_params(entry) for entry in module.params["lists"]]
        plans = ensure_all(client_for(module), wanted, module.check_mode)
    except ValueError as err:
        module.fail_json(msg=str(err))
    except FAILURES as err:
        module.fail_json(msg=failure_message(err))
    changed = [plan for plan in plans if plan.changed]
    result = {
        "changed": bool(changed),
        "lists": {
            plan.wanted.list_id: {
                "changes": plan.changes(),
                "added": plan.added(),
                "removed": plan.removed(),
            }
            for plan in plans
        },
        "changes": [f"{plan.wanted.fqdn}: {line}" for plan in changed for line in plan.changes()],
    }
    if module._diff:
        result["diff"] = [plan.diff() for plan in changed]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
