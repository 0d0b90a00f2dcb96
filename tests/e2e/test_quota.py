"""Quota pacing end to end, with a small budget on both sides for this test only.

The list server paces to BUDGET recipients per WINDOW seconds and the
stand-in refuses anything over the same quota. One post to the list `quota`
(more members than the budget) is partly delivered within the first window,
the rest waits in the list server's queue and leaves after it; nothing is
bounced and the stand-in never refuses for quota. The rest of the suite runs
at the lab's normal budget (group_vars), which the test puts back.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import testinfra
from conftest import World, mail_log, set_budget, wait_for
from test_mail_path import message

BUDGET = 3
WINDOW = 30
LIST = "quota@lab.test"
SMALL = {
    "postfix_quota_recipients": BUDGET,
    "postfix_quota_window": WINDOW,
    "provider_standin_quota_recipients": BUDGET,
    "provider_standin_quota_window_seconds": WINDOW,
}
RELAY = re.compile(r"^\w+: to=<(?P<to>[^>]+)>,.* status=(?P<status>\w+)")


def relay_log(host: testinfra.host.Host, since: float) -> list[tuple[float, str, str]]:
    """(time, recipient, status) of every delivery attempt through the provider."""
    lines = mail_log(host, since, "postfix/provider/smtp")
    found = ((at, RELAY.match(text)) for at, _ident, text in lines)
    return [(at, m["to"], m["status"]) for at, m in found if m]


def queued_recipients(host: testinfra.host.Host) -> set[str]:
    lines = host.run("postqueue -j").stdout.splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    return {r["address"] for e in entries for r in e["recipients"]}


def outbound_queue_empty(host: testinfra.host.Host) -> bool:
    return not {a for a in queued_recipients(host) if a.endswith("@outside.test")}


@pytest.fixture
def small_budget(host: testinfra.host.Host, standin: testinfra.host.Host) -> Iterator[None]:
    # Mail of earlier tests must not count against the small budget.
    wait_for(lambda: outbound_queue_empty(host), 180, "an empty outbound queue")
    set_budget(SMALL)
    try:
        delay = host.run("postconf -h provider_transport_rate_delay").stdout.strip()
        assert delay == f"{WINDOW // BUDGET + 1}s", delay
        quota = json.loads(standin.file("/etc/standin/standin.json").content_string)
        assert quota["quota_recipients"] == BUDGET, quota
        yield
    finally:
        set_budget({})
    assert host.run("postconf -h provider_transport_rate_delay").stdout.strip() == "1s"


def test_post_over_the_budget_is_paced_across_windows_never_refused_or_bounced(
    world: World,
    host: testinfra.host.Host,
    standin: testinfra.host.Host,
    lab: dict[str, Any],
    small_budget: None,
    token: str,
) -> None:
    quota_list = next(x for x in lab["listserver_lists"] if x["name"] == "quota")
    members: list[str] = quota_list["members"]
    assert len(members) > BUDGET
    refusals = "grep 'Quota exceeded' /var/log/mail.log"
    refusals_before = standin.run(refusals).stdout
    since = time.time() - 1
    world.post(message(members[0], LIST, f"Paced {token}", f"{token}\n"))

    def sent() -> list[tuple[float, str, str]]:
        return [e for e in relay_log(host, since) if e[1] in members and e[2] == "sent"]

    # The first recipients leave; the others wait in the queue, not bounced.
    wait_for(lambda: len(sent()) > 0, 120, "the first recipient relayed")
    waiting = queued_recipients(host) & set(members)
    assert waiting, "every recipient left at once: no pacing"
    wait_for(lambda: len(sent()) == len(members), 60 + len(members) * WINDOW, "every recipient")

    times = sorted(at for at, _to, _status in sent())
    first_window = [t for t in times if t < times[0] + WINDOW]
    assert 1 <= len(first_window) <= BUDGET, times
    assert len(times) - len(first_window) >= len(members) - BUDGET, times
    # No WINDOW seconds ever held more than BUDGET deliveries.
    spans = [times[i + BUDGET] - times[i] for i in range(len(times) - BUDGET)]
    assert min(spans) > WINDOW, times

    attempts = [e for e in relay_log(host, since) if e[1] in members]
    assert all(status == "sent" for _at, _to, status in attempts), attempts
    assert sorted(to for _at, to, _status in attempts) == sorted(members), attempts
    for member in members:
        assert len(world.expect(member, token)) == 1, member
    assert standin.run(refusals).stdout == refusals_before, standin.run(refusals).stdout
