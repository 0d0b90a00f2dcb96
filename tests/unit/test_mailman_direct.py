"""The direct path of the mailman_list(s) modules: how it is run, and when it is chosen.

Mailman itself runs the script in the lab (molecule/default's roster list,
bench/lists); here the REST double stands in for the REST API and a recorder
for the script, to prove which path each list takes and how many calls a run
costs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_direct import (
    COMMIT_EVERY,
    SCRIPT,
    DirectError,
    DirectMailman,
    interpreter,
)
from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_list import (
    MailmanClient,
    PlanError,
    Wanted,
    ensure_all,
)
from mailman_rest_double import MailmanRestDouble, MailmanState

PASSWORD = "rest-double-pass-0123"  # noqa: S105 - the double's, not a secret


def test_the_interpreter_is_that_of_mailmans_command(tmp_path: Path) -> None:
    command = tmp_path / "mailman"
    command.write_text("#!/usr/bin/python3 -I\nimport mailman\n")
    assert interpreter(command) == "/usr/bin/python3"
    with pytest.raises(DirectError, match="not installed"):
        interpreter(tmp_path / "absent")


def test_the_script_runs_as_mailmans_user_with_the_request_on_stdin() -> None:
    calls: list[tuple[list[str], str]] = []

    def run(argv: list[str], data: str) -> tuple[int, str, str]:
        calls.append((argv, data))
        return 0, json.dumps({"rosters": {}, "subscribed": 2, "failures": []}), ""

    direct = DirectMailman("/etc/mailman3/mailman.cfg", "list", run, python="/usr/bin/python3")
    assert direct.subscribe({"a.example.org": [("x@example.net", "X"), ("y@example.net", "")]})
    argv, data = calls[0]
    assert argv == [
        "runuser",
        "-u",
        "list",
        "--",
        "/usr/bin/python3",
        "-c",
        SCRIPT,
        "/etc/mailman3/mailman.cfg",
    ]
    assert json.loads(data) == {
        "subscribe": {"a.example.org": [["x@example.net", "X"], ["y@example.net", ""]]},
        "commit_every": COMMIT_EVERY,
    }


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((1, "", "Traceback ...\nPermissionError: mailman.cfg\n"), "PermissionError: mailman.cfg"),
        ((0, "not json", ""), "answered: not json"),
        (
            (0, json.dumps({"subscribed": 1, "failures": ["member b@x.org: banned"]}), ""),
            "1 of 2 subscriptions failed: member b@x.org: banned",
        ),
    ],
)
def test_a_failure_says_what_mailman_said(answer: tuple[int, str, str], message: str) -> None:
    direct = DirectMailman("/cfg", "list", lambda argv, data: answer, python="/usr/bin/python3")
    with pytest.raises(DirectError, match=message.replace("(", r"\(")):
        direct.subscribe({"a.example.org": [("a@x.org", ""), ("b@x.org", "")]})


class RecordingDirect(DirectMailman):
    """The script's effect on the double's state, and every call."""

    def __init__(self, state: MailmanState) -> None:
        super().__init__("/cfg", "list", self.fail, python="/usr/bin/python3")
        self.state = state
        self.requests: list[dict[str, Any]] = []

    @staticmethod
    def fail(argv: list[str], data: str) -> tuple[int, str, str]:
        raise AssertionError("not run")

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        rosters = {
            list_id: {
                role: [
                    [m.email, m.member_id]
                    for m in self.state.members.values()
                    if m.list_id == list_id and m.role == role
                ]
                for role in ("owner", "moderator", "member")
            }
            for list_id in request.get("read", [])
        }
        subscribed = 0
        for list_id, people in request.get("subscribe", {}).items():
            for email, _ in people:
                self.state.add_member(list_id, email)
                subscribed += 1
        return {"rosters": rosters, "subscribed": subscribed, "failures": []}


def wanted(name: str, members: list[str], **settings: Any) -> Wanted:
    return Wanted.from_params(
        {
            "name": name,
            "domain": "example.org",
            "state": "present",
            "description": None,
            "settings": settings,
            "owners": ["alice@example.org"],
            "moderators": [],
            "members": members,
            "members_exclusive": False,
            "exclusive_roles": False,
        }
    )


@pytest.fixture
def double() -> Any:
    with MailmanRestDouble(MailmanState(password=PASSWORD)) as running:
        yield running


def client(double: MailmanRestDouble, direct: DirectMailman | None) -> MailmanClient:
    return MailmanClient(double.url, "restadmin", PASSWORD, timeout=10, direct=direct)


def test_long_subscriptions_go_direct_in_one_call_short_ones_by_rest(
    double: MailmanRestDouble,
) -> None:
    state = double.state
    for name in ("big", "small"):
        list_id = state.add_list(f"{name}@example.org")
        state.add_member(list_id, "alice@example.org", "owner")
    many = [f"reader{i:04d}@example.net" for i in range(150)]
    lists = [wanted("big", many), wanted("small", ["a@example.net", "b@example.net"])]
    direct = RecordingDirect(state)

    plans = ensure_all(client(double, direct), lists, check_mode=False)

    assert [plan.changed for plan in plans] == [True, True]
    assert direct.requests[0] == {"read": ["big.example.org", "small.example.org"]}
    assert direct.requests[1] == {"subscribe": {"big.example.org": [(m, "") for m in many]}}
    assert len(direct.requests) == 2
    posts = [r for r in state.log if r.method == "POST"]
    assert sorted(r.form["subscriber"][0] for r in posts) == ["a@example.net", "b@example.net"]
    assert not [r for r in state.log if r.path.startswith("/3.1/members/find")]
    assert state.roster("big.example.org", "member") == sorted(many)

    direct.requests.clear()
    again = ensure_all(client(double, direct), lists, check_mode=False)
    assert [plan.changed for plan in again] == [False, False]
    assert direct.requests == [{"read": ["big.example.org", "small.example.org"]}]


def test_every_list_is_planned_before_the_first_write(double: MailmanRestDouble) -> None:
    state = double.state
    list_id = state.add_list("first@example.org")
    state.add_member(list_id, "alice@example.org", "owner")
    state.add_list("second@example.org")
    lists = [wanted("first", ["new@example.net"]), wanted("second", [], no_such_setting=True)]
    with pytest.raises(PlanError, match="no_such_setting"):
        ensure_all(client(double, RecordingDirect(state)), lists, check_mode=False)
    assert [r for r in state.log if r.method != "GET"] == []
