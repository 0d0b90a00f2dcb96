"""The mailman_list module's planning and diff (module_utils/mailman_list.py), without a server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_list import (
    Entry,
    ListState,
    PlanError,
    Wanted,
    argument_spec,
    members_file_lines,
    plan_list,
    settings_equal,
)


def params(**overrides: Any) -> dict[str, Any]:
    """The module's parameters with their defaults, as AnsibleModule hands them over."""
    values = {name: option.get("default") for name, option in argument_spec().items()}
    values.update(name="team", domain="example.org", owners=["alice@example.org"])
    values.update(overrides)
    return values


def state(
    members: Sequence[str] = (), owners: Sequence[str] = ("alice@example.org",), **config: Any
) -> ListState:
    rosters = {
        "owner": {a.lower(): Entry(a, f"o{i}") for i, a in enumerate(owners)},
        "moderator": {},
        "member": {a.lower(): Entry(a, f"m{i}") for i, a in enumerate(members)},
    }
    base = {"description": "", "advertised": True, "admin_notify_mchanges": False}
    return ListState(exists=True, config={**base, **config}, rosters=rosters)


def test_a_new_list_is_created_with_its_settings_and_people() -> None:
    wanted = Wanted.from_params(
        params(members=["carol@example.net"], settings={"advertised": False})
    )
    plan = plan_list(wanted, ListState(exists=False, domain_exists=False))
    assert plan.changed
    assert plan.changes() == [
        "create domain example.org",
        "create list team@example.org",
        "set advertised",
        "add 1 owner: alice@example.org",
        "add 1 member: carol@example.net",
    ]


def test_a_list_as_wanted_plans_nothing() -> None:
    wanted = Wanted.from_params(
        params(members=["Carol@Example.net"], settings={"advertised": "false"})
    )
    plan = plan_list(wanted, state(["carol@example.net"], advertised=False))
    assert not plan.changed
    assert plan.changes() == []


def test_missing_members_are_added_and_extra_ones_left_alone_by_default() -> None:
    wanted = Wanted.from_params(params(members=["carol@example.net", "dan@example.net"]))
    plan = plan_list(wanted, state(["carol@example.net", "joined@example.net"]))
    assert plan.added()["member"] == ["dan@example.net"]
    assert plan.removed()["member"] == []


def test_members_exclusive_removes_members_not_declared() -> None:
    wanted = Wanted.from_params(params(members=["carol@example.net"], members_exclusive=True))
    plan = plan_list(wanted, state(["carol@example.net", "joined@example.net"]))
    assert plan.removed() == {"owner": [], "moderator": [], "member": ["joined@example.net"]}
    assert plan.changes() == ["remove 1 member: joined@example.net"]


def test_exclusive_roles_removes_owners_but_not_members() -> None:
    wanted = Wanted.from_params(params(exclusive_roles=True))
    plan = plan_list(
        wanted, state(["joined@example.net"], owners=["alice@example.org", "old@example.org"])
    )
    assert plan.removed()["owner"] == ["old@example.org"]
    assert plan.removed()["member"] == []


def test_many_members_are_counted_in_the_change_line() -> None:
    members = [f"m{i}@example.net" for i in range(12)]
    plan = plan_list(Wanted.from_params(params(members=members)), state())
    assert plan.changes() == [
        "add 12 members: m0@example.net, m1@example.net, m2@example.net, m3@example.net, "
        "m4@example.net and 7 more"
    ]


def test_members_compare_case_insensitively_and_first_duplicate_wins() -> None:
    wanted = Wanted.from_params(
        params(members=["Dan <Dan@Example.net>", "dan@example.net", {"address": "erin@x.net"}])
    )
    people = wanted.roles["member"]
    assert [(p.address, p.display_name) for p in people] == [
        ("Dan@Example.net", "Dan"),
        ("erin@x.net", ""),
    ]


def test_an_unknown_setting_is_refused_naming_the_list() -> None:
    wanted = Wanted.from_params(params(settings={"no_such_setting": 1}))
    with pytest.raises(PlanError, match=r"team@example\.org.*no_such_setting"):
        plan_list(wanted, state())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Team"}, "list 'Team@example.org'"),
        ({"members": ["not-an-address"]}, "not-an-address"),
        ({"owners": "alice@example.org"}, "owners must be a YAML list"),
        ({"domain": "Example.ORG"}, "lowercase domain name"),
    ],
)
def test_bad_definitions_are_refused_saying_what_to_fix(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Wanted.from_params(params(**overrides))


def test_absent_deletes_an_existing_list_only() -> None:
    wanted = Wanted.from_params(params(state="absent"))
    assert plan_list(wanted, state()).changes() == ["delete list team@example.org"]
    assert not plan_list(wanted, ListState(exists=False)).changed


def test_the_diff_shows_settings_and_rosters_before_and_after() -> None:
    wanted = Wanted.from_params(
        params(members=["carol@example.net"], settings={"advertised": False})
    )
    diff = plan_list(wanted, state(["joined@example.net"])).diff()
    assert diff["before_header"] == diff["after_header"] == "list team@example.org"
    assert "  advertised: true" in diff["before"]
    assert "  advertised: false" in diff["after"]
    assert "carol@example.net" not in diff["before"]
    assert "  - carol@example.net" in diff["after"]
    assert "  - joined@example.net" in diff["after"]


def test_the_diff_of_a_new_list_has_an_empty_before() -> None:
    plan = plan_list(Wanted.from_params(params()), ListState(exists=False))
    assert plan.diff()["before"] == ""
    assert "owners:\n  - alice@example.org" in plan.diff()["after"]


@pytest.mark.parametrize(
    ("current", "wanted", "equal"),
    [
        (True, True, True),
        (True, "yes", True),
        (False, "true", False),
        (1, True, False),
        (["b", "a"], ["a", "b"], True),
        (40, "40", True),
    ],
)
def test_settings_compare_as_mailman_reads_them(current: Any, wanted: Any, equal: bool) -> None:
    assert settings_equal(current, wanted) is equal


def test_a_members_file_skips_comments_and_blank_lines() -> None:
    text = "# the board\ncarol@example.net\n\n  dan@example.net  \n   # gone@example.net\n"
    assert members_file_lines(text) == ["carol@example.net", "dan@example.net"]
