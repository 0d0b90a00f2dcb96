#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: ensure one Mailman 3 mailing list through the REST API."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mailman_list
short_description: Ensure a Mailman 3 mailing list, its domain, settings and roles
description:
  - Talks to Mailman core's REST API (normally on the list server's loopback)
    to create or delete a list, create its domain, bring its settings to the
    given values and add missing owners, moderators and members.
  - Only settings named in O(settings) are compared and changed; owners,
    moderators and members are only added, never removed, unless
    O(exclusive_roles) is set for owners and moderators.
  - A list is deleted only with O(state=absent).
version_added: "0.1.0"
author: listserver maintainers
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
    description: Members to subscribe, pre-verified and pre-approved. Either an
      address or a dict with C(address) and C(display_name).
    type: list
    elements: raw
    default: []
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
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Ensure the team list
  listserver.mailman3.mailman_list:
    name: team
    domain: example.org
    description: Team discussions
    owners: [alice@example.org]
    settings:
      dmarc_mitigate_action: munge_from
      dmarc_mitigate_unconditionally: true
    rest_password: "{{ vault_mailman_rest_password }}"
"""

RETURN = r"""
list_id:
  description: Mailman's list id.
  type: str
  returned: always
  sample: team.example.org
changes:
  description: What was (or would be) changed.
  type: list
  elements: str
  returned: always
"""

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.listserver.mailman3.plugins.module_utils.provider_aliases import (
    validate_list_name,
)

ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Rest:
    """Minimal client of Mailman's REST API (3.1)."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.base = url.rstrip("/") + "/3.1"
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        body = None
        headers = dict(self.headers)
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = self.base + path  # http(s) only: checked in main()
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as err:
            raise RestError(err.code, err.read().decode(errors="replace")) from None
        except urllib.error.URLError as err:
            raise RestError(0, f"cannot reach {self.base}: {err.reason}") from None
        return json.loads(payload) if payload else None

    def get(self, path: str) -> Any | None:
        try:
            return self.call("GET", path)
        except RestError as err:
            if err.status == 404:
                return None
            raise


def form_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "True" if value else "False"
    return value


def settings_equal(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return current is wanted
    if isinstance(current, list) and isinstance(wanted, list):
        return sorted(map(str, current)) == sorted(map(str, wanted))
    return str(current) == str(wanted)


def member_entry(item: Any) -> tuple[str, str]:
    if isinstance(item, dict):
        return str(item["address"]), str(item.get("display_name", ""))
    return str(item), ""


def validate(module: AnsibleModule) -> None:
    name = module.params["name"]
    try:
        validate_list_name(name)
    except ValueError as err:
        module.fail_json(msg=str(err))
    people = module.params["owners"] + module.params["moderators"]
    people += [member_entry(m)[0] for m in module.params["members"]]
    bad = [p for p in people if not ADDRESS.match(p)]
    if bad:
        module.fail_json(msg=f"list '{name}': not e-mail addresses: {', '.join(bad)}")


def ensure_roles(
    module: AnsibleModule,
    rest: Rest,
    list_id: str,
    role: str,
    wanted: list[tuple[str, str]],
    exclusive: bool,
    changes: list[str],
) -> None:
    roster = rest.get(f"/lists/{list_id}/roster/{role}") or {}
    present = {e["email"].lower(): e for e in roster.get("entries", [])}
    for address, display_name in wanted:
        if address.lower() in present:
            continue
        changes.append(f"add {role} {address}")
        if not module.check_mode:
            data = {
                "list_id": list_id,
                "subscriber": address,
                "role": role,
                "pre_verified": "True",
                "pre_confirmed": "True",
                "pre_approved": "True",
            }
            if display_name:
                data["display_name"] = display_name
            if role == "member":
                data["send_welcome_message"] = "False"
            rest.call("POST", "/members", data)
    if exclusive:
        keep = {a.lower() for a, _ in wanted}
        for address, entry in present.items():
            if address not in keep:
                changes.append(f"remove {role} {address}")
                if not module.check_mode:
                    rest.call("DELETE", urllib.parse.urlparse(entry["self_link"]).path[4:])


def run(module: AnsibleModule) -> None:
    p = module.params
    rest = Rest(p["rest_url"], p["rest_user"], p["rest_password"])
    fqdn = f"{p['name']}@{p['domain']}"
    list_id = f"{p['name']}.{p['domain']}"
    changes: list[str] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}

    existing = rest.get(f"/lists/{list_id}")
    if p["state"] == "absent":
        if existing is not None:
            changes.append(f"delete list {fqdn}")
            if not module.check_mode:
                rest.call("DELETE", f"/lists/{list_id}")
        module.exit_json(
            changed=bool(changes),
            changes=changes,
            list_id=list_id,
            diff={"before": {"list": fqdn} if existing else {}, "after": {}},
        )

    if rest.get(f"/domains/{p['domain']}") is None:
        changes.append(f"create domain {p['domain']}")
        if not module.check_mode:
            rest.call("POST", "/domains", {"mail_host": p["domain"]})

    if existing is None:
        changes.append(f"create list {fqdn}")
        if module.check_mode:
            module.exit_json(
                changed=True,
                changes=changes,
                list_id=list_id,
                diff={"before": {}, "after": {"list": fqdn, **p["settings"]}},
            )
        rest.call("POST", "/lists", {"fqdn_listname": fqdn})

    wanted = dict(p["settings"])
    if p["description"] is not None:
        wanted["description"] = p["description"]
    config = rest.call("GET", f"/lists/{list_id}/config")
    unknown = sorted(k for k in wanted if k not in config)
    if unknown:
        module.fail_json(
            msg=f"list '{fqdn}': unknown settings {', '.join(unknown)}", list_id=list_id
        )
    patch = {k: v for k, v in wanted.items() if not settings_equal(config[k], v)}
    if patch:
        before = {k: config[k] for k in patch}
        after = dict(patch)
        changes.append("settings " + ", ".join(sorted(patch)))
        if not module.check_mode:
            rest.call(
                "PATCH", f"/lists/{list_id}/config", {k: form_value(v) for k, v in patch.items()}
            )

    ensure_roles(
        module,
        rest,
        list_id,
        "owner",
        [(a, "") for a in p["owners"]],
        p["exclusive_roles"],
        changes,
    )
    ensure_roles(
        module,
        rest,
        list_id,
        "moderator",
        [(a, "") for a in p["moderators"]],
        p["exclusive_roles"],
        changes,
    )
    ensure_roles(
        module, rest, list_id, "member", [member_entry(m) for m in p["members"]], False, changes
    )

    module.exit_json(
        changed=bool(changes),
        changes=changes,
        list_id=list_id,
        diff={"before": before, "after": after},
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "domain": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "description": {"type": "str"},
            "settings": {"type": "dict", "default": {}},
            "owners": {"type": "list", "elements": "str", "default": []},
            "moderators": {"type": "list", "elements": "str", "default": []},
            "members": {"type": "list", "elements": "raw", "default": []},
            "exclusive_roles": {"type": "bool", "default": False},
            "rest_url": {"type": "str", "default": "http://127.0.0.1:8001"},
            "rest_user": {"type": "str", "default": "restadmin"},
            "rest_password": {"type": "str", "required": True, "no_log": True},
        },
        supports_check_mode=True,
    )
    if not module.params["rest_url"].startswith(("http://", "https://")):
        module.fail_json(msg="rest_url must be an http:// or https:// URL")
    validate(module)
    try:
        run(module)
    except RestError as err:
        module.fail_json(msg=f"Mailman REST API: {err}")


if __name__ == "__main__":
    main()
