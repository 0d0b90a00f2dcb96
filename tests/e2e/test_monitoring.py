"""Monitoring end to end: a Prometheus elsewhere sees the faults of the mail path.

monitor.e2e.lab.test runs Debian's Prometheus (tests/lab/roles/prometheus_lab),
scraping the list server through nginx (HTTPS, basic auth, allow-list) every
5 s with the alert rules of roles/monitoring, installed by playbooks/monitoring.yml
(lab timing: molecule/e2e/group_vars/all/monitoring.yml). Each fault of the
mail path must make its named alert fire, seen through Prometheus' HTTP API,
and clear once the fault is repaired.

Firing bound: listserver-status runs 10 s after its previous run ended (a
run takes 1-3 s, more on a loaded machine), Prometheus scrapes and evaluates
every 5 s, each lab "for:" is 10 s: an alert fires within about 35 s of its
fault being visible on the host. The tests allow FIRE_WITHIN for a busy
machine and say how long it took.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import testinfra
from conftest import LISTS, set_budget, wait_for
from test_faults import imap_down, submission_down

MONITOR = "monitor.e2e.lab.test"
FIRE_WITHIN = 150
CLEAR_WITHIN = 240
API = "http://127.0.0.1:9090/api/v1/"

GET = """
import json, sys, urllib.parse, urllib.request
url = sys.argv[1]
if len(sys.argv) > 2:
    url += "?" + urllib.parse.urlencode({"query": sys.argv[2]})
print(urllib.request.urlopen(url, timeout=20).read().decode())
"""


@pytest.fixture(scope="module")
def monitor() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{MONITOR}")


def api(monitor: testinfra.host.Host, path: str, query: str = "") -> Any:
    """GET one of Prometheus' API endpoints from inside its host."""
    args = " ".join(shlex.quote(a) for a in [API + path, query] if a)
    result = monitor.run(f"python3 -c {shlex.quote(GET)} {args}")
    assert result.rc == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == "success", answer
    return answer["data"]


def alerts(monitor: testinfra.host.Host, name: str) -> list[dict[str, Any]]:
    return [a for a in api(monitor, "alerts")["alerts"] if a["labels"]["alertname"] == name]


def firing(monitor: testinfra.host.Host, name: str) -> bool:
    return any(a["state"] == "firing" for a in alerts(monitor, name))


def wait_firing(monitor: testinfra.host.Host, name: str, since: float) -> float:
    wait_for(lambda: firing(monitor, name), FIRE_WITHIN, f"{name} firing")
    took = time.monotonic() - since
    print(f"{name} fired {took:.0f} s after the fault", file=sys.stderr)
    return took


def wait_cleared(monitor: testinfra.host.Host, name: str) -> None:
    wait_for(lambda: not alerts(monitor, name), CLEAR_WITHIN, f"{name} cleared")


def query(monitor: testinfra.host.Host, promql: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = api(monitor, "query", promql)["result"]
    return result


def status(host: testinfra.host.Host) -> testinfra.backend.base.CommandResult:
    return host.run("listserver-status")


def test_prometheus_scrapes_the_list_server_through_nginx(
    host: testinfra.host.Host,
    monitor: testinfra.host.Host,
    lab: dict[str, Any],
    rest: Callable[..., dict[str, Any]],
) -> None:
    def targets_up() -> bool:
        active = api(monitor, "targets")["activeTargets"]
        jobs = {t["labels"]["job"]: t["health"] for t in active}
        return jobs == {"listserver-node": "up", "listserver-postfix": "up"}

    wait_for(targets_up, 90, "both scrape jobs up")
    wait_for(lambda: bool(query(monitor, "mailman3_up == 1")), 90, "mailman3_up from the textfile")
    lists = query(monitor, "mailman3_lists")
    assert int(lists[0]["value"][1]) == len(lab["listserver_lists"])
    # Earlier tests subscribe through team-join@: Mailman's roster, not the
    # inventory, is what the metric counts.
    # The collector runs every minute.
    roster = rest("/lists/team.lab.test/roster/member")["body"]["total_size"]

    def members_counted() -> bool:
        members = query(monitor, 'mailman3_list_members_total{list="team@lab.test"}')
        return bool(members) and int(members[0]["value"][1]) == roster

    wait_for(members_counted, 150, f"mailman3_list_members_total of team == {roster}")
    assert query(monitor, "listserver_intake_connected == 1")
    assert query(monitor, 'postfix_showq_message_age_seconds_count{queue="deferred"}')
    rules = api(monitor, "rules")["groups"]
    assert any(r["name"] == "ListserverRelayFailing" for g in rules for r in g["rules"])
    healthy = status(host)
    assert "ok Mailman" in healthy.stdout, healthy.stdout


METRICS = """
import base64, ssl, sys, urllib.error, urllib.request
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
req = urllib.request.Request("https://{host}/metrics/node")
if len(sys.argv) > 1:
    req.add_header("Authorization", "Basic " + base64.b64encode(sys.argv[1].encode()).decode())
try:
    answer = urllib.request.urlopen(req, context=ctx, timeout=20)
    print(answer.status, "mailman3_up" in answer.read().decode())
except urllib.error.HTTPError as error:
    print(error.code, False)
"""


def fetch_metrics(client: testinfra.host.Host, credentials: str = "") -> str:
    code = shlex.quote(METRICS.replace("{host}", LISTS))
    args = shlex.quote(credentials) if credentials else ""
    result = client.run(f"python3 -c {code} {args}")
    assert result.rc == 0, result.stderr
    return str(result.stdout.strip())


def test_metrics_only_from_the_allow_list_and_with_the_password(
    host: testinfra.host.Host,
    monitor: testinfra.host.Host,
    standin: testinfra.host.Host,
    lab: dict[str, Any],
) -> None:
    credentials = f"prometheus:{lab['vault_metrics_password']}"
    assert fetch_metrics(monitor, credentials) == "200 True"
    assert fetch_metrics(monitor).startswith("401")
    assert fetch_metrics(monitor, "prometheus:wrong password").startswith("401")
    # The stand-in is on the same network but not in the allow-list.
    assert fetch_metrics(standin, credentials).startswith("403")
    # The exporters themselves answer on the loopback only.
    for port in (9100, 9154):
        assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
        assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening
        assert not host.socket(f"tcp://:::{port}").is_listening


def test_relay_down_fires_relay_failing_then_clears(
    host: testinfra.host.Host, monitor: testinfra.host.Host, standin: testinfra.host.Host
) -> None:
    wait_cleared(monitor, "ListserverRelayFailing")
    token = "mon" + uuid.uuid4().hex[:10]
    with submission_down(standin):
        began = time.monotonic()
        sent = host.run(
            f"printf 'Subject: {token}\\n\\n{token}\\n' | sendmail -i alice+{token}@outside.test"
        )
        assert sent.rc == 0, sent.stderr
        wait_firing(monitor, "ListserverRelayFailing", began)
        screen = status(host)
        assert screen.rc == 1, screen.stdout
        assert "!! Relay" in screen.stdout, screen.stdout
        assert f"alice+{token}@outside.test" in screen.stdout, screen.stdout
    assert host.run("postqueue -f").rc == 0
    wait_cleared(monitor, "ListserverRelayFailing")


def test_imap_down_fires_intake_stale_then_clears(
    host: testinfra.host.Host, monitor: testinfra.host.Host, standin: testinfra.host.Host
) -> None:
    wait_cleared(monitor, "ListserverIntakeStale")
    with imap_down(standin):
        began = time.monotonic()
        wait_firing(monitor, "ListserverIntakeStale", began)
        screen = status(host)
        assert "!! Intake" in screen.stdout, screen.stdout
    # fetchmail reconnects at its next poll (fetchmail_poll_interval, 60 s).
    wait_cleared(monitor, "ListserverIntakeStale")


SHUNT = """
import email, sys
from email.message import EmailMessage
from mailman.core.initialize import initialize
initialize("/etc/mailman3/mailman.cfg")
from mailman.config import config
from mailman.email.message import Message
m = EmailMessage()
m["From"], m["To"], m["Subject"] = "owner@outside.test", "fanout@lab.test", sys.argv[1]
m["Message-ID"] = "<" + sys.argv[1] + "@outside.test>"
m.set_content(sys.argv[1] + "\\n")
msg = email.message_from_bytes(m.as_bytes(), Message)
print(config.switchboards["shunt"].enqueue(msg, listid="fanout.lab.test", whichq="in"))
"""


def test_a_shunted_message_fires_failed_messages_until_unshunted(
    host: testinfra.host.Host, monitor: testinfra.host.Host
) -> None:
    wait_cleared(monitor, "ListserverMailmanFailedMessages")
    token = "mon" + uuid.uuid4().hex[:10]
    # As Mailman shunts a message whose handler failed: its own switchboard.
    shunted = host.run(f"runuser -u list -- python3 -c {shlex.quote(SHUNT)} {token}")
    assert shunted.rc == 0, shunted.stderr
    began = time.monotonic()
    wait_firing(monitor, "ListserverMailmanFailedMessages", began)
    assert "!! Mailman queues" in status(host).stdout
    # The runbook's repair: unshunt, and Mailman processes it (held: a non-member post).
    assert host.run("runuser -u list -- mailman unshunt").rc == 0
    wait_cleared(monitor, "ListserverMailmanFailedMessages")


BUDGET, WINDOW = 2, 30


@pytest.fixture
def small_budget(host: testinfra.host.Host) -> Iterator[None]:
    def relay_queue_empty() -> bool:
        return "@outside.test" not in host.run("postqueue -p").stdout

    # Mail of earlier tests must not count against the small budget.
    wait_for(relay_queue_empty, 180, "an empty outbound queue")
    small = {
        "postfix_quota_recipients": BUDGET,
        "postfix_quota_window": WINDOW,
        "provider_standin_quota_recipients": BUDGET,
        "provider_standin_quota_window_seconds": WINDOW,
    }
    try:
        set_budget(small)
        yield
    finally:
        set_budget({})


def test_quota_exhausted_fires_while_more_waits_than_the_window_allows(
    host: testinfra.host.Host, monitor: testinfra.host.Host, small_budget: None
) -> None:
    token = "mon" + uuid.uuid4().hex[:10]
    rcpts = " ".join(f"quota{i}+{token}@outside.test" for i in range(6))
    began = time.monotonic()
    sent = host.run(f"printf 'Subject: {token}\\n\\n{token}\\n' | sendmail -i {rcpts}")
    assert sent.rc == 0, sent.stderr
    wait_firing(monitor, "ListserverQuotaExhausted", began)
    assert "!! Quota" in status(host).stdout
    # 6 recipients, 2 per 30 s, one every 16 s: the last leaves after 80 s.
    wait_cleared(monitor, "ListserverQuotaExhausted")
    assert not query(monitor, 'listserver_relay_attempts{status="bounced"} > 0')
