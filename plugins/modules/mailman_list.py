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
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_direct import (
    DirectError,
    from_module,
)
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_list import (
    MailmanClient,
    PlanError,
    RestError,
    Wanted,
    argument_spec,
    ensure,
)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    list_id = f"{params['name']}.{params['domain']}"
    try:
        wanted = Wanted.from_params(params)
    except ValueError as err:
        module.fail_json(msg=str(err), list_id=list_id)
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
        plan = ensure(client, wanted, module.check_mode)
    except PlanError as err:
        module.fail_json(msg=str(err), list_id=list_id)
    except RestError as err:
        module.fail_json(msg=f"Mailman REST API: {err}", list_id=list_id)
    except DirectError as err:
        module.fail_json(msg=str(err), list_id=list_id)
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
