#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: the mailbox aliases every list needs, through the Infomaniak Mail API."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: provider_aliases
short_description: Ensure the mailbox aliases Mailman lists need at Infomaniak
description:
  - Every list C(team@example.org) served through one hosted mailbox needs nine
    aliases of that mailbox (C(team), C(team-bounces), C(team-confirm),
    C(team-join), C(team-leave), C(team-owner), C(team-request),
    C(team-subscribe), C(team-unsubscribe)), and the site needs one alias per
    site-level sender (O(site_senders)).
  - Computes them from the same list definitions the Mailman roles use
    (C(mailman_lists_definitions)), restricted to O(domain), and adds the
    missing ones through the Infomaniak Mail API, one C(POST) per alias.
  - Removes only the aliases of lists marked C(state=absent) (and only those no
    other list or site sender still needs), one C(DELETE) per alias. Any other
    alias of the mailbox is left alone and returned in RV(unmanaged). The API
    call that replaces the whole set is never used.
  - Retries with exponential backoff on HTTP 429 (honouring C(Retry-After)),
    on 5xx answers and when the API cannot be reached.
  - With O(offline=true) nothing is called and the module only computes what is
    required, for users who wire aliases by hand or on another provider.
version_added: "0.1.0"
author: listserver maintainers (@listserver)
options:
  api_url:
    description: Base URL of the Mail API.
    type: str
    default: https://api.infomaniak.com
  api_token:
    description:
      - API token with the mail scope, sent as a C(Bearer) token in the C(Authorization) header.
      - If not set, the environment variable E(INFOMANIAK_API_TOKEN) is used.
      - Required unless O(offline=true).
    type: str
  mail_hosting_id:
    description:
      - Numeric id of the mail hosting (the mail service of the domain) at the provider.
      - Required unless O(offline=true).
    type: str
  mailbox:
    description:
      - Local part of the mailbox that carries the aliases (C(mailman) for
        C(mailman@example.org)), not the full address.
      - Required unless O(offline=true).
    type: str
  domain:
    description: Mail domain of the mailbox. Lists on other domains are skipped
      and returned in RV(skipped_lists).
    type: str
    required: true
  lists:
    description:
      - The list definitions, in the shape of C(mailman_lists_definitions).
        Only C(name), C(domain) and C(state) are read; other keys are ignored.
      - A list name is a lowercase local part that does not end in a Mailman
        suffix such as C(-bounces); an invalid name fails the task.
    type: list
    elements: dict
    default: []
  site_senders:
    description:
      - Local parts Mailman and the web UI send from. Each gets one alias.
      - Add the site owner's local part when the site owner address is on O(domain).
    type: list
    elements: str
    default: [postorius, noreply]
  offline:
    description: Compute only; make no API call and change nothing. RV(added),
      RV(removed) and RV(unmanaged) are then empty.
    type: bool
    default: false
  timeout:
    description: Timeout of one HTTP request, in seconds.
    type: int
    default: 30
  max_retries:
    description: Retries of one request after HTTP 429, 5xx or a connection error.
    type: int
    default: 5
  retry_delay:
    description: First delay between retries, in seconds, doubled on each retry
      (a C(Retry-After) header on HTTP 429 wins). Capped at 60 seconds.
    type: float
    default: 1.0
  validate_certs:
    description: Verify the API's TLS certificate.
    type: bool
    default: true
notes:
  - Supports check mode (the aliases are read, nothing is written) and diff
    mode (the mailbox's alias list before and after).
  - Runs on the controller (a C(localhost) play, or C(delegate_to=localhost)).
    The Mail API allows about 60 requests a minute.
seealso:
  - name: Infomaniak API
    description: Reference of the Mail API.
    link: https://developer.infomaniak.com/docs/api
"""

EXAMPLES = r"""
- name: Wire the aliases of every list on example.org
  listserver.mailman3.provider_aliases:
    api_token: "{{ vault_infomaniak_api_token }}"
    mail_hosting_id: "123456"
    mailbox: mailman
    domain: example.org
    lists: "{{ mailman_lists_definitions }}"
    site_senders: [postorius, noreply, admin]

- name: Only compute what to create by hand (no API call)
  listserver.mailman3.provider_aliases:
    offline: true
    domain: example.org
    lists:
      - name: team
        domain: example.org
      - name: old-list
        domain: example.org
        state: absent
  register: aliases_plan
"""

RETURN = r"""
required:
  description: Every alias the lists on O(domain) and the site senders need, list by list.
  type: list
  elements: str
  returned: always
  sample: [team, team-bounces, team-confirm, team-join, team-leave, team-owner,
           team-request, team-subscribe, team-unsubscribe, postorius, noreply]
removable:
  description: Aliases of lists marked C(state=absent) that nothing else needs;
    removed when present.
  type: list
  elements: str
  returned: always
  sample: [old-list, old-list-bounces]
added:
  description: Aliases added (or that would be added in check mode).
  type: list
  elements: str
  returned: always
  sample: [team, team-bounces]
removed:
  description: Aliases removed (or that would be removed in check mode).
  type: list
  elements: str
  returned: always
  sample: [old-list]
unmanaged:
  description: Aliases of the mailbox that no list definition accounts for; left untouched.
  type: list
  elements: str
  returned: always
  sample: [info, contact]
skipped_lists:
  description: Lists (C(name@domain)) on another domain than O(domain), ignored.
  type: list
  elements: str
  returned: always
  sample: [board@other.example]
aliases_enabled:
  description: Whether the mailbox has aliases enabled (C(enabled_alias)), when the API says.
  type: bool
  returned: when the API was called and said so
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.listserver.mailman3.plugins.module_utils.provider_aliases import (
    DEFAULT_API_URL,
    DEFAULT_SITE_SENDERS,
    AliasPlan,
    MailApiClient,
    MailApiError,
    compute_plan,
    plan_changes,
)


def argument_spec() -> dict[str, Any]:
    return {
        "api_url": {"type": "str", "default": DEFAULT_API_URL},
        "api_token": {
            "type": "str",
            "no_log": True,
            "fallback": (env_fallback, ["INFOMANIAK_API_TOKEN"]),
        },
        "mail_hosting_id": {"type": "str"},
        "mailbox": {"type": "str"},
        "domain": {"type": "str", "required": True},
        "lists": {"type": "list", "elements": "dict", "default": []},
        "site_senders": {
            "type": "list",
            "elements": "str",
            "default": list(DEFAULT_SITE_SENDERS),
        },
        "offline": {"type": "bool", "default": False},
        "timeout": {"type": "int", "default": 30},
        "max_retries": {"type": "int", "default": 5},
        "retry_delay": {"type": "float", "default": 1.0},
        "validate_certs": {"type": "bool", "default": True},
    }


def plan_result(plan: AliasPlan) -> dict[str, Any]:
    return {
        "changed": False,
        "required": list(plan.required),
        "removable": list(plan.removable),
        "added": [],
        "removed": [],
        "unmanaged": [],
        "skipped_lists": list(plan.skipped_lists),
    }


def run(module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    try:
        plan = compute_plan(params["lists"], params["domain"], params["site_senders"])
    except ValueError as err:
        module.fail_json(msg=f"Invalid list definitions: {err}")
    result = plan_result(plan)
    if params["offline"]:
        return result

    missing = [key for key in ("api_token", "mail_hosting_id", "mailbox") if not params[key]]
    if missing:
        hint = (
            " (api_token may also come from INFOMANIAK_API_TOKEN)" if "api_token" in missing else ""
        )
        module.fail_json(
            msg=f"Missing {', '.join(missing)}{hint}; set them, or offline=true to only compute.",
            **result,
        )

    client = MailApiClient(
        token=params["api_token"],
        mail_hosting_id=params["mail_hosting_id"],
        mailbox=params["mailbox"],
        base_url=params["api_url"],
        timeout=params["timeout"],
        max_retries=params["max_retries"],
        retry_delay=params["retry_delay"],
        validate_certs=params["validate_certs"],
    )
    try:
        changes = plan_changes(client.list_aliases(), plan)
        if client.aliases_enabled is not None:
            result["aliases_enabled"] = client.aliases_enabled
            if not client.aliases_enabled:
                module.warn(
                    f"Aliases are disabled on mailbox '{params['mailbox']}' (enabled_alias=0): "
                    "mail to them will not be delivered until they are enabled."
                )
        result.update(
            changed=bool(changes.add or changes.remove),
            added=list(changes.add),
            removed=list(changes.remove),
            unmanaged=list(changes.unmanaged),
        )
        if module._diff:
            result["diff"] = {
                "before_header": f"aliases of {params['mailbox']}",
                "after_header": f"aliases of {params['mailbox']}",
                "before": "".join(f"{alias}\n" for alias in changes.before),
                "after": "".join(f"{alias}\n" for alias in changes.after),
            }
        if module.check_mode:
            return result
        for alias in changes.add:
            add_alias(client, alias)
        for alias in changes.remove:
            delete_alias(client, alias)
    except MailApiError as err:
        module.fail_json(msg=str(err), **result)
    return result


def add_alias(client: MailApiClient, alias: str) -> None:
    """POST one alias; an error because it already exists (a retried POST) is success."""
    try:
        client.add_alias(alias)
    except MailApiError as err:
        if err.status in (400, 409, 422) and alias in lowered(client.list_aliases()):
            return
        raise


def delete_alias(client: MailApiClient, alias: str) -> None:
    """DELETE one alias; an error because it is already gone (a retried DELETE) is success."""
    try:
        client.delete_alias(alias)
    except MailApiError as err:
        if err.status in (400, 404, 410, 422) and alias not in lowered(client.list_aliases()):
            return
        raise


def lowered(aliases: list[str]) -> set[str]:
    return {alias.lower() for alias in aliases}


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
