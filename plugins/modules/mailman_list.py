#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: ensure one Mailman 3 mailing list through the REST API."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mailman_list
short_description: Ensure a Mailman 3 mailing list, its domain, settings and people
description:
  - Talks to Mailman core's REST API (normally on the list server's loopback)
    to create or delete a list, create its domain, bring its settings to the
    given values and add missing owners, moderators and members.
  - Only settings named in O(settings) (and O(description)) are compared and
    changed. Owners and moderators are only added unless O(exclusive_roles);
    members are only added unless O(members_exclusive).
  - A list is deleted only with O(state=absent).
  - Reads a list in two requests up to 1,000 memberships (its configuration,
    and every membership through C(/members/find) with only the fields it
    compares), in pages of 1,000 beyond (Mailman's REST worker is killed after
    30 seconds on one request). Subscribes each new member with one request, O(concurrency) at
    a time, pre-verified, pre-confirmed and pre-approved, without a welcome
    message; while it subscribes, the list's C(admin_notify_mchanges) is off,
    so no mail goes out for the import. Removes members in one mass
    unsubscription request, which sends no mail either.
version_added: "0.1.0"
author: listserver maintainers (@listserver)
options:
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
    description: Unsubscribe members that are not in O(members). Off by
      default, so that members who joined by themselves stay.
    type: bool
    default: false
  exclusive_roles:
    description: Remove owners and moderators that are not listed.
    type: bool
    default: false
extends_documentation_fragment:
  - listserver.mailman3.mailman_connection
notes:
  - Supports check mode (everything is read, nothing is written) and diff mode
    (the list's managed settings and its rosters, before and after).
seealso:
  - name: Mailman core REST API
    description: The resources this module uses (lists, domains, members).
    link: https://docs.mailman3.org/projects/mailman/en/latest/src/mailman/rest/docs/rest.html
"""

EXAMPLES = r"""
- name: Ensure the team list
  listserver.mailman3.mailman_list:
    name: team
    domain: example.org
    description: Team discussions
    owners: [alice@example.org]
    members:
      - carol@example.net
      - Dan Ærø <dan@example.net>
      - {address: erin@example.net, display_name: Erin}
    settings:
      dmarc_mitigate_action: munge_from
      dmarc_mitigate_unconditionally: true
    rest_password: "{{ vault_mailman_rest_password }}"

- name: Members managed from a file, exclusively (a member left out is unsubscribed)
  listserver.mailman3.mailman_list:
    name: newsletter
    domain: example.org
    owners: [alice@example.org]
    members: "{{ lookup('ansible.builtin.file', 'newsletter.txt').splitlines() }}"
    members_exclusive: true
    rest_password: "{{ vault_mailman_rest_password }}"
"""

RETURN = r"""
list_id:
  description: Mailman's list id.
  type: str
  returned: always
  sample: team.example.org
changes:
  description: What was (or would be) changed, one line per kind of change.
  type: list
  elements: str
  returned: always
  sample: ["create list team@example.org", "set description",
           "add 2 members: carol@example.net, dan@example.net"]
added:
  description: Addresses subscribed (or that would be), by role.
  type: dict
  returned: always
  sample: {"owner": [], "moderator": [], "member": ["carol@example.net"]}
removed:
  description: Addresses unsubscribed (or that would be), by role.
  type: dict
  returned: always
  sample: {"owner": [], "moderator": [], "member": ["old@example.net"]}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_list import (
    FAILURES,
    Wanted,
    argument_spec,
    client_for,
    ensure,
    failure_message,
)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    list_id = f"{params['name']}.{params['domain']}"
    try:
        wanted = Wanted.from_params(params)
        plan = ensure(client_for(module), wanted, module.check_mode)
    except ValueError as err:
        module.fail_json(msg=str(err), list_id=list_id)
    except FAILURES as err:
        module.fail_json(msg=failure_message(err), list_id=list_id)
    result = {
        "changed": plan.changed,
        "list_id": list_id,
        "changes": plan.changes(),
        "added": plan.added(),
        "removed": plan.removed(),
    }
    if module._diff:
        result["diff"] = plan.diff()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
