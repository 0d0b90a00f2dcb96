"""adopt_plan: what adopting a surveyed server moves, changes by policy, and declares."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.listserver.mailman3.plugins.filter.adopt_plan import adopt_plan

POLICY = {
    "dmarc_mitigate_action": "munge_from",
    "dmarc_mitigate_unconditionally": True,
    "reply_goes_to_list": "point_to_list",
    "first_strip_reply_to": True,
}


def surveyed(**settings: Any) -> dict[str, Any]:
    """A list as mailman_survey reports one built by the guide."""
    return {
        "fqdn_listname": "team@lab.test",
        "name": "team",
        "domain": "lab.test",
        "settings": {
            "description": "The team",
            "subject_prefix": "[team] ",
            "max_message_size": 512,
            "advertised": True,
            "dmarc_mitigate_action": "munge_from",
            "dmarc_mitigate_unconditionally": False,
            "reply_goes_to_list": "point_to_list",
            "first_strip_reply_to": True,
            "volume": 1,
            **settings,
        },
        "owners": ["admin@lab.test"],
        "moderators": [],
        "members": 3,
        "delivery_modes": {"regular": 2, "mime_digests": 1},
        "nonmembers": 1,
        "held": 1,
        "requests": 0,
        "archive": {"posts": 10, "threads": 4, "attachments": 2},
    }


def plan(*lists: dict[str, Any], limit: int = 7089) -> dict[str, Any]:
    return adopt_plan({"lists": list(lists), "domains": ["lab.test"]}, POLICY, limit)


def test_counts_what_moves_per_list() -> None:
    assert plan(surveyed())["moves"] == {
        "team@lab.test": {
            "members": 3,
            "delivery_modes": {"regular": 2, "mime_digests": 1},
            "owners": 1,
            "moderators": 0,
            "nonmembers": 1,
            "held": 1,
            "requests": 0,
            "posts": 10,
            "threads": 4,
            "attachments": 2,
        }
    }


def test_names_each_setting_the_policy_changes() -> None:
    changes = plan(surveyed(dmarc_mitigate_action="no_mitigation"))["changes"]
    assert changes == [
        {
            "list": "team@lab.test",
            "setting": "dmarc_mitigate_action",
            "from": "no_mitigation",
            "to": "munge_from",
        },
        {
            "list": "team@lab.test",
            "setting": "dmarc_mitigate_unconditionally",
            "from": False,
            "to": True,
        },
    ]


@pytest.mark.parametrize("size", [0, 20000])
def test_a_size_the_intake_refuses_is_brought_down(size: int) -> None:
    result = plan(surveyed(max_message_size=size), limit=7089)
    assert {
        "list": "team@lab.test",
        "setting": "max_message_size",
        "from": size,
        "to": 7089,
    } in result["changes"]
    assert result["lists"][0]["settings"]["max_message_size"] == 7089


def test_declares_the_list_as_found_without_the_policys_settings() -> None:
    entry = plan(surveyed())["lists"][0]
    assert entry == {
        "name": "team",
        "domain": "lab.test",
        "description": "The team",
        "owners": ["admin@lab.test"],
        "settings": {"subject_prefix": "[team] ", "max_message_size": 512, "advertised": True},
    }


def test_anything_but_a_survey_is_refused() -> None:
    with pytest.raises(AnsibleFilterError, match="mailman_survey"):
        adopt_plan({"stdout": ""}, POLICY, 7089)
