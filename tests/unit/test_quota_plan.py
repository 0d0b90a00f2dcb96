"""The declared lists against the relay's sending quota (issue 20: the quota, planned)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible_collections.listserver.mailman3.plugins.module_utils.quota_plan import (
    members_of,
    plan,
    rate_delay,
)
from test_preflight import run_preflight

PREMIUM = (1440, 86400)


def team(name: str, members: int, **extra: Any) -> dict[str, Any]:
    roster = [f"m{i}@example.net" for i in range(members)]
    return {
        "name": name,
        "domain": "example.org",
        "owners": ["a@example.org"],
        "members": roster,
        **extra,
    }


def test_a_post_costs_one_recipient_per_distinct_member() -> None:
    listed = {
        "members": ["A@example.net", {"address": "a@example.net"}, {"address": "b@example.net"}]
    }
    assert members_of(listed) == 2
    assert members_of({"name": "x"}) == 0


def test_lists_within_the_quota_raise_no_warning() -> None:
    found = plan([team("team", 200), team("board", 40)], *PREMIUM)
    assert found.daily_quota == 1440
    assert found.per_list == {"team@example.org": 200, "board@example.org": 40}
    assert found.warnings == []


def test_a_list_larger_than_a_days_quota_is_named_with_its_delivery_time() -> None:
    found = plan([team("all", 10000)], *PREMIUM)
    assert len(found.warnings) == 1
    warning = found.warnings[0]
    assert "all@example.org goes to 10000 members" in warning
    assert "daily quota of 1440" in warning
    # 10000 deliveries 61 s apart.
    assert "7.1 days" in warning


def test_lists_that_together_outgrow_a_day_are_warned_of_once() -> None:
    found = plan([team(f"l{i}", 200) for i in range(8)], *PREMIUM)
    assert found.one_post_each == 1600
    assert len(found.warnings) == 1
    assert "each of the 8 lists goes to 1600 recipients" in found.warnings[0]


def test_absent_lists_cost_nothing_and_the_window_scales_to_a_day() -> None:
    found = plan([team("gone", 5000, state="absent"), team("team", 300)], 500, 43200)
    assert found.daily_quota == 1000
    assert found.per_list == {"team@example.org": 300}
    assert found.warnings == []
    assert rate_delay(1440, 86400) == 61


def test_a_members_file_counts_with_the_declared_members(tmp_path: Path) -> None:
    roster = tmp_path / "all.txt"
    roster.write_text("".join(f"m{i}@example.net\n" for i in range(1500)))
    big = {**team("all", 0), "members": ["Eve <eve@example.net>"], "members_file": str(roster)}
    result = run_preflight(tmp_path, {"listserver_lists": [big]})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "all@example.org goes to 1501 members" in output


def test_the_preflight_warns_and_goes_on(tmp_path: Path) -> None:
    big = team("all", 2000)
    result = run_preflight(tmp_path, {"listserver_lists": [big]})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[WARNING]" in output
    assert "all@example.org goes to 2000 members" in output
