# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter of playbooks/adopt.yml: what adopting a surveyed Mailman server moves and changes."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: adopt_plan
short_description: What adopting a surveyed Mailman server moves, changes and declares
description:
  - Takes what M(listserver.mailman3.mailman_survey) read on a server to adopt and
    returns the plan of the adoption, before anything is written.
  - C(moves) counts, per list, what moves (members by delivery mode, owners,
    moderators, held messages, pending requests, archived posts, threads,
    attachments).
  - C(changes) names every list setting the new host sets differently by policy
    (O(default_settings), the C(mailman_lists_default_settings) of the
    C(mailman_lists) role, that is DMARC mitigation and replies), and a
    C(max_message_size) above what the new host's intake accepts.
  - C(lists) are the C(listserver_lists) entries that describe the lists as found,
    with those changes made, so that a converge after the adoption changes nothing.
  - C(web) is the survey's count of the web app's users and votes.
version_added: "0.1.0"
author: listserver maintainers (@listserver)
positional: default_settings, max_message_size_limit
options:
  _input:
    description: The registered result of M(listserver.mailman3.mailman_survey).
    type: dict
    required: true
  default_settings:
    description: Settings every list gets unless it overrides them.
    type: dict
    required: true
  max_message_size_limit:
    description: Largest C(max_message_size) (KB) a list may set on the new host.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Plan the adoption
  ansible.builtin.set_fact:
    __adopt_plan: >-
      {{ __adopt_survey | listserver.mailman3.adopt_plan(mailman_lists_default_settings,
      mailman_lists_max_message_size_limit) }}
"""

RETURN = r"""
_value:
  description: C(moves), C(changes), C(lists) and C(web), as described above.
  type: dict
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

# The settings a lists-as-code entry declares besides the policy's: those an owner
# sets in Postorius and would miss if they came back as Mailman's defaults.
DECLARED = (
    "subject_prefix",
    "max_message_size",
    "advertised",
    "archive_policy",
    "subscription_policy",
    "unsubscription_policy",
    "default_member_action",
    "default_nonmember_action",
    "send_welcome_message",
    "send_goodbye_message",
    "admin_immed_notify",
    "digests_enabled",
    "digest_size_threshold",
    "collapse_alternatives",
    "convert_html_to_plaintext",
    "filter_content",
    "anonymous_list",
    "preferred_language",
)


def _moves(found: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "members": found["members"],
        "delivery_modes": dict(found["delivery_modes"]),
        "owners": len(found["owners"]),
        "moderators": len(found["moderators"]),
        "nonmembers": found["nonmembers"],
        "held": found["held"],
        "requests": found["requests"],
        **found["archive"],
    }


def _changes(
    found: Mapping[str, Any], policy: Mapping[str, Any], size_limit: int
) -> dict[str, Any]:
    settings = found["settings"]
    changed = {k: v for k, v in policy.items() if k in settings and settings[k] != v}
    size = settings.get("max_message_size")
    if isinstance(size, int) and (size == 0 or size > size_limit):
        changed["max_message_size"] = size_limit
    return changed


def adopt_plan(
    survey: Mapping[str, Any], default_settings: Mapping[str, Any], max_message_size_limit: int
) -> dict[str, Any]:
    """The adoption's plan of one surveyed server."""
    if not isinstance(survey, Mapping) or "lists" not in survey:
        raise AnsibleFilterError("adopt_plan: the input must be mailman_survey's result")
    moves: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    lists: list[dict[str, Any]] = []
    for found in survey["lists"]:
        fqdn = found["fqdn_listname"]
        moves[fqdn] = _moves(found)
        changed = _changes(found, default_settings, max_message_size_limit)
        changes.extend(
            {"list": fqdn, "setting": k, "from": found["settings"].get(k), "to": v}
            for k, v in changed.items()
        )
        settings = {k: found["settings"][k] for k in DECLARED if k in found["settings"]}
        settings.update({k: v for k, v in changed.items() if k in settings})
        entry: dict[str, Any] = {"name": found["name"], "domain": found["domain"]}
        if found["settings"].get("description"):
            entry["description"] = found["settings"]["description"]
        entry["owners"] = list(found["owners"])
        if found["moderators"]:
            entry["moderators"] = list(found["moderators"])
        entry["settings"] = settings
        lists.append(entry)
    return {"moves": moves, "changes": changes, "lists": lists, "web": dict(survey.get("web", {}))}


class FilterModule:
    """adopt_plan."""

    def filters(self) -> dict[str, Any]:
        return {"adopt_plan": adopt_plan}
