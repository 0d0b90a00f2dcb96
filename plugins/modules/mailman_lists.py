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
    description: The lists, each with the options of
      M(listserver.mailman3.mailman_list) that describe one list.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Local part of the list address (lowercase).
        type: str
        required: true
      domain:
        description: Mail domain of the list. Created in Mailman when missing.
        type: str
        required: true
      state:
        description: Whether the list exists.
        type: str
        choices: [present, absent]
        default: present
      description:
        description: Short description shown in the list index.
        type: str
      settings:
        description: List settings as named by the REST API (for example
          C(dmarc_mitigate_action)); only these keys are compared.
        type: dict
        default: {}
      owners:
        description: Owner addresses.
        type: list
        elements: str
        default: []
      moderators:
        description: Moderator addresses.
        type: list
        elements: str
        default: []
      members:
        description:
          - Members, each an address, C(Display Name <address>), or a dict with
            C(address) and C(display_name). Addresses compare case-insensitively;
            the first of duplicates wins.
          - The display name is used when a member is subscribed; the display name
            of an existing member is not changed.
        type: list
        elements: raw
        default: []
      members_exclusive:
        description: Unsubscribe members that are not in O(lists[].members). Off by
          default, so that members who joined by themselves stay.
        type: bool
        default: false
      exclusive_roles:
        description: Remove owners and moderators that are not listed.
        type: bool
        default: false
  rest_url:
    description: Base URL of the REST API.
    type: str
    default: http://127.0.0.1:8001
  rest_user:
    description: REST API user.
    type: str
    default: restadmin
  rest_password:
    description: REST API password.
    type: str
    required: true
  timeout:
    description: Timeout of one REST request, in seconds. Reading a list of
      ten thousand members takes seconds, more on a busy host.
    type: int
    default: 300
  concurrency:
    description: Subscription requests in flight at once. Mailman serves them
      with its REST workers (C(mailman_core_rest_workers)); a few in flight
      keep a single worker busy.
    type: int
    default: 4
  mailman_config:
    description:
      - Mailman core's configuration file on the host the module runs on (the
        list server), for example C(/etc/mailman3/mailman.cfg). When it is
        given and exists, and the module runs as root, the rosters are read, and
        O(bulk_threshold) or more new members subscribed, by Mailman's own
        Python API, run as O(mailman_user) in one process (seconds for ten
        thousand members, where the REST API takes minutes), committed every
        500 members.
      - The script creates what the REST API's workflow creates for a
        pre-approved subscription (the address, verified; its user; the
        member) and refuses what it refuses (the list's posting address, a
        pending request, a ban), without mail.
      - Otherwise the REST API alone.
    type: path
  mailman_user:
    description: The user Mailman runs as (the direct path runs as it).
    type: str
    default: list
  bulk_threshold:
    description: New members to one list from which they are subscribed by
      the direct path (see O(mailman_config)) rather than one REST request each.
    type: int
    default: 100
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
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_direct import (
    DirectError,
    from_module,
)
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_list import (
    CONNECTION_OPTIONS,
    LIST_OPTIONS,
    MailmanClient,
    PlanError,
    RestError,
    Wanted,
    ensure_all,
)


def main() -> None:
    spec = {
        "lists": {"type": "list", "elements": "dict", "required": True, "options": LIST_OPTIONS},
        **CONNECTION_OPTIONS,
    }
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    try:
        wanted = [Wanted.from_params(entry) for entry in params["lists"]]
    except ValueError as err:
        module.fail_json(msg=str(err))
    try:
        client = MailmanClient(
            params["rest_url"],
            params["rest_user"],
            params["rest_password"],
            timeout=params["timeout"],
            concurrency=params["concurrency"],
            direct=from_module(module),
            bulk_threshold=params["bulk_threshold"],
        )
        plans = ensure_all(client, wanted, module.check_mode)
    except PlanError as err:
        module.fail_json(msg=str(err))
    except RestError as err:
        module.fail_json(msg=f"Mailman REST API: {err}")
    except DirectError as err:
        module.fail_json(msg=str(err))
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
