"""listserver-status and its metrics (roles/monitoring), against a faked host.

Every command the tool runs (systemctl, journalctl, postqueue, postconf, ss,
openssl) is answered from a table; Mailman's REST API is a local HTTP double;
the queue directories and the textfile directory live in tmp_path.
"""

from __future__ import annotations

import base64
import importlib.machinery
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "roles/monitoring/files/usr/local/sbin/listserver-status"
NOW = 1_800_000_000.0
PASSWORD = "rest p$a's\"s"  # noqa: S105 (the double's test password)


def load() -> ModuleType:
    """Import the script (no .py suffix) the way the host runs it."""
    loader = importlib.machinery.SourceFileLoader("listserver_monitoring", str(MODULE))
    spec = importlib.util.spec_from_loader("listserver_monitoring", loader)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["listserver_monitoring"] = module
    spec.loader.exec_module(module)
    return module


lm = load()

LISTS = [
    {"list_id": "team.lab.test", "fqdn_listname": "team@lab.test", "member_count": 3},
    {"list_id": "quota.lab.test", "fqdn_listname": "quota@lab.test", "member_count": 5},
]


class RestDouble(BaseHTTPRequestHandler):
    """Mailman's REST API, the few resources listserver-status reads."""

    held: ClassVar[dict[str, int]] = {"team.lab.test": 2}
    requests: ClassVar[dict[str, int]] = {"quota.lab.test": 1}

    def do_GET(self) -> None:
        expected = "Basic " + base64.b64encode(f"restadmin:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.end_headers()
            return
        path = self.path.split("?")[0].removeprefix("/3.1")
        body: dict[str, Any]
        if path == "/system/versions":
            body = {"mailman_version": "GNU Mailman 3.3.10 (Tom Sawyer)"}
        elif path == "/domains":
            body = {"total_size": 1}
        elif path == "/users":
            body = {"total_size": 9}
        elif path == "/lists":
            body = {"total_size": len(LISTS), "entries": LISTS}
        elif path.endswith("/held"):
            body = {"total_size": self.held.get(path.split("/")[2], 0)}
        elif path.endswith("/requests"):
            body = {"total_size": self.requests.get(path.split("/")[2], 0)}
        else:
            self.send_response(404)
            self.end_headers()
            return
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def rest_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RestDouble)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def journal(*lines: tuple[float, str]) -> str:
    return "".join(f"{at:.6f} lists postfix/provider/smtp[42]: {text}\n" for at, text in lines)


def sent(at: float, to: str, status: str = "sent") -> tuple[float, str]:
    return at, (
        f"ABC{int(at)}: to=<{to}>, relay=mail.example.org[192.0.2.1]:587, delay=1, "
        f"dsn=2.0.0, status={status} (250 ok)"
    )


SS_OUTPUT = (
    "0 0 10.0.0.3:57652 10.0.0.2:993 timer:(keepalive,119min,0) uid:999 ino:1 sk:1 <->\n"
    "\t ts sack cubic wscale:10,10 rto:204 lastsnd:2668 lastrcv:4000 lastack:2664\n"
    "0 0 10.0.0.3:40000 10.0.0.9:993 uid:0 ino:2 sk:2 <->\n"
    "\t ts sack cubic lastsnd:1 lastrcv:1 lastack:1\n"
)


class Host:
    """The commands of a faked list server; tests change the answers."""

    def __init__(self) -> None:
        self.units = {"postfix.service": "active", "mailman3.service": "active"}
        self.relay_log = ""
        self.queue: list[dict[str, Any]] = []
        self.ss = SS_OUTPUT
        self.rate_delay = "61s"
        self.enddate = "notAfter=Mar  4 15:50:00 2027 GMT\n"

    def run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        out = ""
        if argv[0] == "systemctl":
            out = "\n\n".join(
                f"Id={u}\nActiveState={self.units.get(u, 'inactive')}"
                for u in argv[argv.index("--") + 1 :]
            )
        elif argv[0] == "journalctl":
            out = self.relay_log
        elif argv[0] == "postqueue":
            out = "".join(json.dumps(m) + "\n" for m in self.queue)
        elif argv[0] == "postconf":
            out = self.rate_delay + "\n"
        elif argv[0] == "ss":
            out = self.ss
        else:
            raise AssertionError(f"unexpected command {argv}")
        return subprocess.CompletedProcess(argv, 0, out, "")


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Host:
    fake = Host()
    monkeypatch.setattr(lm, "run", fake.run)
    monkeypatch.setattr(lm, "postgresql_answers", lambda host, port: True)
    monkeypatch.setattr(lm, "served_certificate", lambda address, port, name: b"DER")
    monkeypatch.setattr(lm, "not_after", lambda der: lm.parse_enddate(fake.enddate))
    return fake


@pytest.fixture
def cfg(tmp_path: Path, rest_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    queue = tmp_path / "queue"
    for name in ("in", "out", "shunt", "bad", "retry", "virgin"):
        (queue / name).mkdir(parents=True)
    lmtp = tmp_path / "postfix_lmtp"
    lmtp.write_text("# generated\nteam@lab.test lmtp:[127.0.0.1]:8024\n")
    import pwd

    monkeypatch.setattr(pwd, "getpwnam", lambda name: type("P", (), {"pw_uid": 999})())
    return lm.Config(
        rest_url=rest_url,
        rest_password=PASSWORD,
        queue_dir=str(queue),
        lmtp_map=str(lmtp),
        units=["postfix.service", "mailman3.service"],
        quota_recipients=10,
        quota_window=3600,
        intake_enabled=True,
        tls_server_name="lists.example.org",
        disk_paths=[str(tmp_path)],
        textfile_dir=str(tmp_path / "textfile"),
        state_file=str(tmp_path / "state.json"),
        intake_stale_after=600,
    )


def metrics(report: Any) -> dict[str, float]:
    """'name{labels}' -> value of every sample."""
    found = {}
    for family in report.families.values():
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            found[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return found


def section(report: Any, name: str) -> Any:
    return next(f for f in report.findings if f.section == name)


def test_a_healthy_host_needs_no_attention_and_names_metrics_like_mailman3_exporter(
    host: Host, cfg: Any
) -> None:
    report = lm.collect(cfg, NOW, {})
    values = metrics(report)
    assert report.attention == [], lm.screen(report, "h", NOW)
    assert values["mailman3_up"] == 1
    assert values["mailman3_domains"] == 1
    assert values["mailman3_lists"] == 2
    assert values["mailman3_users_total"] == 9
    assert values['mailman3_list_members_total{list="quota@lab.test"}'] == 5
    assert values['mailman3_queues{queue="shunt"}'] == 0
    assert values['listserver_mailman_held_messages{list="team@lab.test"}'] == 2
    assert values['listserver_mailman_pending_requests{list="quota@lab.test"}'] == 1
    assert values['listserver_unit_active{unit="postfix.service"}'] == 1
    assert values["listserver_postgresql_up"] == 1
    assert values["listserver_intake_connected"] == 1
    assert values["listserver_intake_last_success_timestamp_seconds"] == NOW - 4
    assert values["listserver_quota_pacing_delay_seconds"] == 61
    assert values[
        'listserver_certificate_expiry_timestamp_seconds{server_name="lists.example.org"}'
    ] == (1804175400)
    assert all(v == 1 for k, v in values.items() if k.startswith("listserver_probe_success"))


def test_the_quota_counts_sent_recipients_of_the_window_and_waiting_ones_exhaust_it(
    host: Host, cfg: Any
) -> None:
    host.relay_log = journal(
        sent(NOW - 4000, "old@outside.test"),  # before the window
        *(sent(NOW - 3000 + i * 61, f"m{i}@outside.test") for i in range(8)),
        sent(NOW - 100, "later@outside.test", "deferred"),
        sent(NOW - 50, "x@outside.test"),
    )
    waiting = [{"address": f"w{i}@outside.test"} for i in range(3)]
    host.queue = [
        {
            "queue_id": "A1",
            "queue_name": "active",
            "sender": "team-bounces@lab.test",
            "arrival_time": NOW - 60,
            "recipients": waiting,
        },
        # List mail for Mailman (LMTP) and local mail do not count for the relay.
        {
            "queue_id": "B2",
            "queue_name": "active",
            "sender": "a@outside.test",
            "arrival_time": NOW - 1,
            "recipients": [{"address": "team@lab.test"}, {"address": "root@localhost"}],
        },
    ]
    report = lm.collect(cfg, NOW, {})
    values = metrics(report)
    assert values["listserver_quota_used_recipients"] == 9
    assert values["listserver_quota_left_recipients"] == 1
    assert values['listserver_relay_attempts{status="deferred"}'] == 1
    assert values['listserver_relay_queue_recipients{state="waiting"}'] == 3
    assert values['listserver_relay_queue_recipients{state="deferred"}'] == 0
    assert values['listserver_postfix_queue_recipients{queue="active"}'] == 5
    assert values["listserver_relay_last_attempt_ok"] == 1
    quota = section(report, "Quota")
    assert not quota.ok
    assert "3 recipients wait but only 1 may leave" in quota.detail[0]
    assert "relayed 9 of 10" in quota.text
    queue = section(report, "Mail queue")
    assert any("w0@outside.test: waiting for its turn" in line for line in queue.detail)


def test_a_failing_relay_is_seen_in_the_latest_attempt_and_the_deferred_queue(
    host: Host, cfg: Any
) -> None:
    host.relay_log = journal(
        sent(NOW - 500, "a@outside.test"),
        sent(NOW - 20, "b@outside.test", "deferred"),
    )
    host.queue = [
        {
            "queue_id": "C3",
            "queue_name": "deferred",
            "sender": "team-bounces@lab.test",
            "arrival_time": NOW - 30,
            "recipients": [
                {
                    "address": "b@outside.test",
                    "delay_reason": "connect to mail.example.org: Connection refused",
                }
            ],
        },
    ]
    report = lm.collect(cfg, NOW, {})
    values = metrics(report)
    assert values["listserver_relay_last_attempt_ok"] == 0
    assert values['listserver_relay_queue_recipients{state="deferred"}'] == 1
    assert values['listserver_relay_last_attempt_timestamp_seconds{status="deferred"}'] == NOW - 20
    relay = section(report, "Relay")
    assert not relay.ok
    assert "deferred" in relay.text


def test_bounced_recipients_need_attention_even_with_an_empty_queue(host: Host, cfg: Any) -> None:
    host.relay_log = journal(sent(NOW - 20, "b@outside.test", "bounced"), sent(NOW - 5, "c@x.test"))
    report = lm.collect(cfg, NOW, {})
    assert metrics(report)['listserver_relay_attempts{status="bounced"}'] == 1
    assert not section(report, "Relay").ok


def test_shunted_messages_and_a_stuck_queue_need_attention(host: Host, cfg: Any) -> None:
    shunt = Path(cfg.queue_dir) / "shunt" / "1796400000.1+abc.pck"
    shunt.write_bytes(b"x")
    (Path(cfg.queue_dir) / "shunt" / "being-processed.bak").write_bytes(b"x")
    report = lm.collect(cfg, NOW, {})
    values = metrics(report)
    assert values['mailman3_queues{queue="shunt"}'] == 1
    assert not section(report, "Mailman queues").ok
    assert "shunt: 1" in section(report, "Mailman queues").text

    shunt.unlink()
    old = Path(cfg.queue_dir) / "out" / "old.pck"
    old.write_bytes(b"x")
    import os

    os.utime(old, (NOW - 7200, NOW - 7200))
    report = lm.collect(cfg, NOW, {})
    assert metrics(report)['listserver_mailman_queue_oldest_seconds{queue="out"}'] == 7200
    assert not section(report, "Mailman queues").ok


def test_the_intake_without_a_session_keeps_its_last_success_and_goes_stale(
    host: Host, cfg: Any
) -> None:
    state: dict[str, float] = {}
    lm.collect(cfg, NOW, state)
    assert state["intake_last_success"] == NOW - 4
    host.ss = ""
    report = lm.collect(cfg, NOW + 60, state)
    values = metrics(report)
    assert values["listserver_intake_connected"] == 0
    assert values["listserver_intake_last_success_timestamp_seconds"] == NOW - 4
    assert not section(report, "Intake").ok
    # A session of another user on the same port is not the intake's.
    host.ss = SS_OUTPUT.split("\n", 2)[2]
    assert metrics(lm.collect(cfg, NOW + 120, state))["listserver_intake_connected"] == 0


def test_a_down_unit_a_dead_rest_api_and_a_down_database_need_attention(
    host: Host, cfg: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    host.units["mailman3.service"] = "failed"
    monkeypatch.setattr(lm, "postgresql_answers", lambda host, port: False)
    cfg.rest_url = "http://127.0.0.1:9"
    report = lm.collect(cfg, NOW, {})
    values = metrics(report)
    assert values['listserver_unit_active{unit="mailman3.service"}'] == 0
    assert values["mailman3_up"] == 0
    assert values["listserver_postgresql_up"] == 0
    assert {f.section for f in report.attention} >= {"Services", "PostgreSQL", "Mailman"}
    # Queues come from the directories, so they are still reported.
    assert 'mailman3_queues{queue="shunt"}' in values
    cfg.queue_dir = str(Path(cfg.queue_dir) / "missing")
    assert not section(lm.collect(cfg, NOW, {}), "Mailman queues").ok


def test_a_certificate_close_to_expiry_needs_attention(host: Host, cfg: Any) -> None:
    host.enddate = "notAfter=Jan 20 08:00:00 2027 GMT\n"  # NOW is 2027-01-15
    report = lm.collect(cfg, NOW, {})
    assert not section(report, "Certificate").ok


def test_the_backup_textfile_contract(host: Host, cfg: Any) -> None:
    textfile = Path(cfg.textfile_dir)
    textfile.mkdir()
    assert section(lm.collect(cfg, NOW, {}), "Backup").ok  # no backup job yet
    (textfile / "listserver_backup.prom").write_text(
        "# TYPE listserver_backup_last_success_timestamp_seconds gauge\n"
        f"listserver_backup_last_success_timestamp_seconds {NOW - 3600:.0f}\n"
        "listserver_backup_last_result 0\n"
    )
    assert section(lm.collect(cfg, NOW, {}), "Backup").ok
    (textfile / "listserver_backup.prom").write_text(
        f"listserver_backup_last_success_timestamp_seconds {NOW - 27 * 3600:.0f}\n"
        "listserver_backup_last_result 1\n"
    )
    backup = section(lm.collect(cfg, NOW, {}), "Backup")
    assert not backup.ok
    assert "failed" in backup.text


def test_a_failing_probe_is_reported_and_the_others_still_run(
    host: Host, cfg: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(argv: list[str], check: bool = True) -> Any:
        if argv[0] == "postqueue":
            raise subprocess.CalledProcessError(69, argv, "", "postqueue: fatal")
        return host.run(argv, check)

    monkeypatch.setattr(lm, "run", broken)
    report = lm.collect(cfg, NOW, {})
    values = metrics(report)
    assert values['listserver_probe_success{probe="relay"}'] == 0
    assert values["mailman3_up"] == 1
    assert not section(report, "Relay").ok


def test_main_writes_the_textfile_and_the_state_and_exits_by_attention(
    host: Host, cfg: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitoring.json"
    config.write_text(json.dumps(cfg.__dict__))
    out = tmp_path / "textfile" / "listserver.prom"
    assert lm.main(["--config", str(config), "--write-metrics", str(out)]) == 0
    assert "mailman3_up 1\n" in out.read_text()
    assert json.loads(Path(cfg.state_file).read_text())["intake_last_success"] > 0
    assert lm.main(["--config", str(config)]) == 0
    assert "nothing needs attention" in capsys.readouterr().out
    host.units["postfix.service"] = "failed"
    assert lm.main(["--config", str(config)]) == 1
    assert "!! Services" in capsys.readouterr().out
    assert lm.main(["--config", str(tmp_path / "missing.json")]) == 2


def test_the_textfile_is_valid_prometheus_exposition(host: Host, cfg: Any) -> None:
    assert shutil.which("promtool"), (
        "promtool missing: install Debian's prometheus (make host-deps)"
    )
    host.relay_log = journal(sent(NOW - 20, 'odd"name\\@outside.test'))
    text = lm.exposition(lm.collect(cfg, NOW, {}))
    done = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    # Lint remarks (e.g. a gauge named *_total, kept for mailman3_exporter's
    # names) are not format errors; a format error names no metric.
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line and "_total" not in line and "counter metrics should have" not in line
    ]
    assert not problems, done.stdout + done.stderr


def test_parsers_of_command_output() -> None:
    assert lm.parse_systemctl_show(
        "Id=a.service\nActiveState=active\n\nId=b\nActiveState=failed"
    ) == {
        "a.service": "active",
        "b": "failed",
    }
    assert lm.intake_sessions(SS_OUTPUT, 999) == [4.0]
    assert lm.intake_sessions(SS_OUTPUT, 0) == [0.001]
    assert lm.parse_enddate("notAfter=Mar  4 15:50:00 2027 GMT") == 1804175400
    assert lm.goes_to_relay("carol@lab.test", {"team@lab.test"})
    assert not lm.goes_to_relay("TEAM@lab.test", {"team@lab.test"})
    assert not lm.goes_to_relay("root", set())
    assert lm.human_age(30) == "30 s"
    assert lm.human_age(7200) == "2 h"
