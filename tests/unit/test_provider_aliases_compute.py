"""Which aliases the lists need: the pure computation shared by the module and the CLI."""

from __future__ import annotations

import pytest
import yaml
from ansible_collections.listserver.mailman3.plugins.module_utils.provider_aliases import (
    MAILMAN_SUFFIXES,
    compute_plan,
    list_aliases,
    parse_retry_after,
    plan_changes,
    site_senders_for,
    validate_list_name,
)
from helpers import TEAM_ALIASES

NINE = TEAM_ALIASES


def lst(name: str, domain: str = "example.org", **extra: object) -> dict[str, object]:
    return {"name": name, "domain": domain, "owners": ["alice@example.org"], **extra}


def test_a_list_needs_its_nine_aliases() -> None:
    assert list_aliases("team") == NINE
    assert len(MAILMAN_SUFFIXES) == 8


def test_every_list_gives_its_nine_then_the_site_senders() -> None:
    plan = compute_plan([lst("team"), lst("board.x")], "example.org", ["postorius", "noreply"])
    assert list(plan.required) == [
        *NINE,
        *(alias.replace("team", "board.x", 1) for alias in NINE),
        "postorius",
        "noreply",
    ]
    assert plan.removable == ()
    assert plan.skipped_lists == ()


def test_site_senders_appear_once_even_when_listed_twice() -> None:
    plan = compute_plan(
        [lst("postorius")], "example.org", ["postorius", "noreply", "Postorius", "noreply"]
    )
    assert plan.required.count("postorius") == 1
    assert plan.required.count("noreply") == 1
    assert plan.site_senders == ("postorius", "noreply")


def test_default_site_senders_when_none_given() -> None:
    assert compute_plan([], "example.org").required == ("postorius", "noreply")


def test_site_owner_on_the_domain_is_a_site_sender() -> None:
    assert site_senders_for("example.org", "Admin@Example.org") == ["postorius", "noreply", "admin"]
    assert site_senders_for("example.org", "admin@elsewhere.net") == ["postorius", "noreply"]
    assert site_senders_for("example.org", None) == ["postorius", "noreply"]


def test_lists_on_other_domains_are_skipped_and_reported() -> None:
    plan = compute_plan([lst("team"), lst("board", "other.example")], "Example.ORG.", [])
    assert list(plan.required) == NINE
    assert plan.skipped_lists == ("board@other.example",)
    assert plan.domain == "example.org"


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("Team", "lowercase"),
        ("", "missing or empty"),
        (None, "missing or empty"),
        ("team@example.org", "contains '@'"),
        ("team-bounces", "ends in '-bounces'"),
        ("team-owner", "ends in '-owner'"),
        ("team-unsubscribe", "ends in '-unsubscribe'"),
        ("-team", "must start with a letter or digit"),
        ("team list", "only lowercase letters"),
        ("team.", "not end with '.'"),
        ("te..am", "hold '..'"),
        ("t" * 53, "longer than 52"),
    ],
)
def test_invalid_list_names_are_refused_with_the_list_named(name: object, complaint: str) -> None:
    with pytest.raises(ValueError, match="list") as caught:
        compute_plan([lst("team"), {"name": name, "domain": "example.org"}], "example.org")
    assert complaint in str(caught.value)
    if isinstance(name, str) and name:
        assert f"'{name}@example.org'" in str(caught.value)


def test_a_valid_name_is_returned() -> None:
    assert validate_list_name("a.b_c-1") == "a.b_c-1"
    assert validate_list_name("bounces") == "bounces"  # only the suffix form is reserved


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"name": "team"}, "'domain' is missing"),
        ({"name": "team", "domain": "example.org", "state": "gone"}, "'present' or 'absent'"),
        ("team", "expected a mapping"),
    ],
)
def test_malformed_definitions_are_refused(entry: object, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        compute_plan([entry], "example.org")  # type: ignore[list-item]


def test_a_list_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared more than once"):
        compute_plan([lst("team"), lst("team", state="absent")], "example.org")


@pytest.mark.parametrize("sender", ["noreply@example.org", "", "no reply"])
def test_invalid_site_senders_are_refused(sender: str) -> None:
    with pytest.raises(ValueError, match="site sender"):
        compute_plan([], "example.org", [sender])


def test_absent_lists_aliases_are_removable_and_nothing_else() -> None:
    plan = compute_plan(
        [lst("team"), lst("old", state="absent"), lst("gone", "other.example", state="absent")],
        "example.org",
    )
    assert list(plan.removable) == [alias.replace("team", "old", 1) for alias in NINE]
    assert not set(plan.removable) & set(plan.required)

    changes = plan_changes(["info", "old", "old-owner", "team", "postorius", "gone"], plan)
    assert changes.remove == ("old", "old-owner")
    assert changes.unmanaged == ("gone", "info")
    assert "team" not in changes.add
    assert set(changes.after) == {"info", "gone", *plan.required}


def test_an_absent_list_never_removes_what_is_still_required() -> None:
    # A list named like a site sender, marked absent: the site still sends from it.
    plan = compute_plan([lst("noreply", state="absent")], "example.org", ["postorius", "noreply"])
    assert "noreply" in plan.required
    assert "noreply" not in plan.removable
    assert "noreply-bounces" in plan.removable


def test_nothing_to_do_when_everything_is_there() -> None:
    plan = compute_plan([lst("team")], "example.org")
    changes = plan_changes([*plan.required, "info"], plan)
    assert changes.add == ()
    assert changes.remove == ()
    assert changes.before == changes.after


def test_current_aliases_compare_case_insensitively() -> None:
    plan = compute_plan([lst("team")], "example.org", [])
    assert plan_changes([alias.upper() for alias in NINE], plan).add == ()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("0", 0.0), ("1", 1.0), ("2.5", 2.5), ("-3", 0.0), ("soon", None), ("", None)],
)
def test_retry_after_is_parsed(header: str, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_as_http_date_in_the_past_means_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_module_documentation_matches_its_argument_spec() -> None:
    from ansible_collections.listserver.mailman3.plugins.modules import provider_aliases as module

    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    spec = module.argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert doc.get("elements") == option.get("elements"), name
        assert bool(doc.get("required")) == bool(option.get("required")), name
    assert spec["api_token"]["no_log"] is True
    for block in (module.EXAMPLES, module.RETURN):
        assert yaml.safe_load(block)
