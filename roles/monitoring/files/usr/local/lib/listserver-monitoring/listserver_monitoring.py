#!/usr/bin/python3
"""What only this list server knows, for Prometheus and for a human.

One probe of the host, two outputs:

  listserver-status                   one screen for a human; exit 1 when
                                      something needs attention, 2 when the
                                      tool itself cannot run
  listserver-status --write-metrics F the same facts in Prometheus' text
                                      format, written atomically to F (the
                                      node exporter's textfile collector
                                      directory), run by listserver-metrics.timer

The probes: systemd units, PostgreSQL, Mailman's REST API (domains, lists,
members, users, held messages and pending requests per list) and queue
directories, Postfix's queue (the recipients waiting for the relay: paced or
deferred), the relay's deliveries in the quota window (journal), the intake's
IMAP session (fetchmail's socket), the certificate nginx serves, the disks,
and the backup's own textfile (written by the backup job, see the role's
README). Settings come from a JSON file (/etc/listserver/monitoring.json).

Standard library only: it runs with Debian's python3 and nothing else.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG = Path("/etc/listserver/monitoring.json")
COMMAND_TIMEOUT = 30


# --------------------------------------------------------------------------
# Settings


@dataclass
class Config:
    """The host's settings (rendered by the role from its variables)."""

    rest_url: str = "http://127.0.0.1:8001"
    rest_user: str = "restadmin"
    rest_password: str = ""
    rest_timeout: float = 10.0
    queue_dir: str = "/var/lib/mailman3/queue"
    lmtp_map: str = "/var/lib/mailman3/data/postfix_lmtp"
    units: list[str] = field(default_factory=list)
    db_host: str = "localhost"
    db_port: int = 5432
    relay_host: str = ""
    relay_syslog_identifier: str = "postfix/provider/smtp"
    relay_rate_delay_parameter: str = "provider_transport_rate_delay"
    quota_recipients: int = 1440
    quota_window: int = 86400
    intake_enabled: bool = False
    intake_user: str = "fetchmail-intake"
    intake_port: int = 993
    tls_server_name: str = ""
    tls_address: str = "127.0.0.1"
    tls_port: int = 443
    disk_paths: list[str] = field(default_factory=lambda: ["/"])
    textfile_dir: str = "/var/lib/prometheus/node-exporter"
    backup_textfile: str = "listserver_backup.prom"
    state_file: str = "/var/lib/listserver-monitoring/state.json"
    # Thresholds of the status screen; the alert rules use the same values.
    intake_stale_after: int = 900
    certificate_min_days: int = 14
    disk_max_ratio: float = 0.80
    backup_max_age: int = 26 * 3600
    mailman_queue_max_age: int = 1800
    listed_recipients: int = 20

    @classmethod
    def load(cls, path: Path) -> Config:
        raw = json.loads(path.read_text())
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# --------------------------------------------------------------------------
# Facts


@dataclass
class Sample:
    """One Prometheus sample."""

    name: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Family:
    name: str
    kind: str
    help: str
    samples: list[Sample] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> None:
        self.samples.append(Sample(self.name, value, labels))


@dataclass
class Finding:
    """One line of the status screen."""

    section: str
    ok: bool
    text: str
    detail: list[str] = field(default_factory=list)


@dataclass
class Report:
    families: dict[str, Family] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def family(self, name: str, kind: str, help_text: str) -> Family:
        if name not in self.families:
            self.families[name] = Family(name, kind, help_text)
        return self.families[name]

    def gauge(self, name: str, help_text: str, value: float, **labels: str) -> None:
        self.family(name, "gauge", help_text).add(value, **labels)

    def note(self, section: str, ok: bool, text: str, detail: Iterable[str] = ()) -> None:
        self.findings.append(Finding(section, ok, text, list(detail)))

    @property
    def attention(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]


def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, check=check, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )


# --- systemd units -----------------------------------------------------------


def parse_systemctl_show(text: str) -> dict[str, str]:
    """Id -> ActiveState from `systemctl show --property=Id,ActiveState u1 u2 ...`."""
    states: dict[str, str] = {}
    for block in text.strip().split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "Id" in props:
            states[props["Id"]] = props.get("ActiveState", "unknown")
    return states


def probe_units(cfg: Config, report: Report) -> None:
    if not cfg.units:
        return
    shown = run(["systemctl", "show", "--property=Id,ActiveState", "--", *cfg.units])
    states = parse_systemctl_show(shown.stdout)
    down = []
    for unit in cfg.units:
        state = states.get(unit, "unknown")
        active = 1.0 if state == "active" else 0.0
        report.gauge(
            "listserver_unit_active",
            "1 when the systemd unit is active (running), 0 otherwise.",
            active,
            unit=unit,
        )
        if not active:
            down.append(f"{unit} is {state}")
    if down:
        report.note("Services", False, f"{len(down)} of {len(cfg.units)} not active", down)
    else:
        report.note("Services", True, f"all {len(cfg.units)} active")


# --- PostgreSQL ----------------------------------------------------------------


def postgresql_answers(host: str, port: int, timeout: float = 5.0) -> bool:
    """pg_isready where installed, else PostgreSQL's SSLRequest over TCP."""
    if shutil.which("pg_isready"):
        done = run(["pg_isready", "-q", "-h", host, "-p", str(port), "-t", "5"], check=False)
        return done.returncode == 0
    ssl_request = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(ssl_request)
            return sock.recv(1) in (b"S", b"N")
    except OSError:
        return False


def probe_postgresql(cfg: Config, report: Report) -> None:
    up = postgresql_answers(cfg.db_host, cfg.db_port)
    report.gauge(
        "listserver_postgresql_up",
        "1 when PostgreSQL accepts connections (pg_isready).",
        1.0 if up else 0.0,
    )
    where = f"{cfg.db_host}:{cfg.db_port}"
    report.note("PostgreSQL", up, f"{where} accepting connections" if up else f"{where} down")


# --- Mailman -------------------------------------------------------------------


class Rest:
    """Mailman's REST API (3.1) with basic auth."""

    def __init__(self, cfg: Config) -> None:
        if not cfg.rest_url.startswith(("http://", "https://")):
            raise ValueError(f"rest_url must be http(s)://, got {cfg.rest_url!r}")
        self.base = cfg.rest_url.rstrip("/") + "/3.1"
        token = base64.b64encode(f"{cfg.rest_user}:{cfg.rest_password}".encode()).decode()
        self.auth = f"Basic {token}"
        self.timeout = cfg.rest_timeout

    def get(self, path: str) -> dict[str, Any]:
        # The scheme is checked in __init__: http(s) only.
        request = urllib.request.Request(self.base + path)  # noqa: S310
        request.add_header("Authorization", self.auth)
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
            data: dict[str, Any] = json.load(answer)
        return data

    def total(self, path: str) -> int:
        sep = "&" if "?" in path else "?"
        return int(self.get(f"{path}{sep}count=1&page=1").get("total_size", 0))


def queue_counts(queue_dir: Path, now: float) -> dict[str, tuple[int, float]]:
    """Queue name -> (messages, age of the oldest in seconds), from the directories.

    A message is a `*.pck` file, as Mailman's switchboards count them (files
    being processed are `*.bak`). Read from disk, so it works with the REST
    API down.
    """
    found: dict[str, tuple[int, float]] = {}
    if not queue_dir.is_dir():
        return found
    for entry in sorted(queue_dir.iterdir()):
        if not entry.is_dir():
            continue
        count, oldest = 0, now
        for item in entry.iterdir():
            if item.name.endswith(".pck"):
                count += 1
                try:
                    oldest = min(oldest, item.stat().st_mtime)
                except FileNotFoundError:
                    continue
        found[entry.name] = (count, max(0.0, now - oldest) if count else 0.0)
    return found


def probe_mailman(cfg: Config, report: Report, now: float) -> None:
    queues = queue_counts(Path(cfg.queue_dir), now)
    stuck = []
    for name, (count, age) in queues.items():
        report.gauge(
            "mailman3_queues",
            "Messages in each of Mailman's queues (files in its queue directory).",
            count,
            queue=name,
        )
        report.gauge(
            "listserver_mailman_queue_oldest_seconds",
            "Age of the oldest message in each of Mailman's queues (0 when empty).",
            round(age, 1),
            queue=name,
        )
        if name not in ("shunt", "bad") and age > cfg.mailman_queue_max_age:
            stuck.append(f"{name}: {count} messages, oldest {human_age(age)}")
    failed = {n: queues[n][0] for n in ("shunt", "bad") if queues.get(n, (0, 0))[0]}
    busy = {n: c for n, (c, _a) in queues.items() if c and n not in failed}
    if failed:
        report.note(
            "Mailman queues",
            False,
            ", ".join(f"{n}: {c}" for n, c in failed.items()) + " (failed messages)",
            ["inspect: mailman qfile <file>; retry the shunt queue: mailman unshunt"],
        )
    elif stuck:
        report.note("Mailman queues", False, "not draining", stuck)
    else:
        text = ", ".join(f"{n}: {c}" for n, c in busy.items()) or "all empty"
        report.note("Mailman queues", True, text)

    rest = Rest(cfg)
    began = time.monotonic()
    try:
        versions = rest.get("/system/versions")
        domains = rest.total("/domains")
        users = rest.total("/users")
        lists = rest.get("/lists").get("entries", [])
        held: dict[str, int] = {}
        requests: dict[str, int] = {}
        for entry in lists:
            list_id = entry["list_id"]
            held[entry["fqdn_listname"]] = rest.total(f"/lists/{list_id}/held")
            requests[entry["fqdn_listname"]] = rest.total(f"/lists/{list_id}/requests")
    except (OSError, ValueError, KeyError, urllib.error.URLError) as error:
        report.gauge("mailman3_up", "1 when Mailman's REST API answers, 0 otherwise.", 0.0)
        report.note("Mailman", False, f"REST API at {cfg.rest_url} does not answer: {error}")
        return
    report.gauge("mailman3_up", "1 when Mailman's REST API answers, 0 otherwise.", 1.0)
    report.gauge(
        "listserver_mailman_rest_duration_seconds",
        "Seconds the REST API took to answer every query of this probe.",
        round(time.monotonic() - began, 3),
    )
    report.gauge("mailman3_domains", "Number of configured list domains.", domains)
    report.gauge("mailman3_lists", "Number of configured lists.", len(lists))
    report.gauge("mailman3_users_total", "Number of users recorded in Mailman core.", users)
    for entry in lists:
        name = entry["fqdn_listname"]
        report.gauge(
            "mailman3_list_members_total",
            "Members of each list.",
            int(entry.get("member_count", 0)),
            list=name,
        )
        report.gauge(
            "listserver_mailman_held_messages",
            "Messages held for moderation, per list.",
            held[name],
            list=name,
        )
        report.gauge(
            "listserver_mailman_pending_requests",
            "Subscription requests waiting for a moderator, per list.",
            requests[name],
            list=name,
        )
    members = sum(int(e.get("member_count", 0)) for e in lists)
    version = str(versions.get("mailman_version", "")).replace("GNU Mailman ", "")
    report.note(
        "Mailman",
        True,
        f"REST API answers ({version}); {domains} domains, {len(lists)} lists, "
        f"{members} memberships, {users} users",
    )
    waiting = [
        f"{name}: {held[name]} held, {requests[name]} requests"
        for name in sorted(held)
        if held[name] or requests[name]
    ]
    if waiting:
        report.note("Moderation", True, f"{len(waiting)} lists wait for a moderator", waiting)


# --- Postfix: the relay, the quota, the queue ----------------------------------

LOG_LINE = re.compile(r"^(?P<at>\d+(?:\.\d+)?) \S+ (?P<ident>[\w/.-]+)\[\d+\]: (?P<text>.*)$")
DELIVERY = re.compile(r"^[0-9A-Za-z]+: to=<(?P<to>[^>]*)>,.* status=(?P<status>[a-z]+)")


@dataclass
class RelayAttempt:
    at: float
    recipient: str
    status: str


def parse_relay_log(text: str) -> list[RelayAttempt]:
    """Delivery attempts from `journalctl -o short-unix` lines of the relay transport."""
    attempts = []
    for line in text.splitlines():
        match = LOG_LINE.match(line)
        if not match:
            continue
        delivery = DELIVERY.match(match["text"])
        if delivery:
            attempts.append(RelayAttempt(float(match["at"]), delivery["to"], delivery["status"]))
    return attempts


def relay_attempts(cfg: Config, now: float) -> list[RelayAttempt]:
    since = int(now - cfg.quota_window)
    out = run(
        [
            "journalctl",
            "--quiet",
            "--no-pager",
            "--output=short-unix",
            f"--since=@{since}",
            f"--identifier={cfg.relay_syslog_identifier}",
        ]
    ).stdout
    return [a for a in parse_relay_log(out) if a.at >= now - cfg.quota_window]


@dataclass
class QueuedRecipient:
    queue_id: str
    queue: str
    sender: str
    address: str
    reason: str
    arrival: float


def parse_postqueue(text: str) -> list[QueuedRecipient]:
    """Recipients from `postqueue -j` (one JSON object per message)."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        message = json.loads(line)
        for recipient in message.get("recipients", []):
            found.append(
                QueuedRecipient(
                    queue_id=str(message.get("queue_id", "")),
                    queue=str(message.get("queue_name", "")),
                    sender=str(message.get("sender", "")),
                    address=str(recipient.get("address", "")),
                    reason=str(recipient.get("delay_reason", "")),
                    arrival=float(message.get("arrival_time", 0)),
                )
            )
    return found


def local_addresses(lmtp_map: Path) -> set[str]:
    """The addresses Postfix hands to Mailman over LMTP (Mailman's postfix_lmtp map)."""
    try:
        text = lmtp_map.read_text()
    except OSError:
        return set()
    return {
        line.split()[0].lower()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }


def goes_to_relay(address: str, local: set[str]) -> bool:
    """True for recipients that leave through the provider, not LMTP or local delivery."""
    lowered = address.lower()
    if "@" not in lowered or lowered in local:
        return False
    return lowered.rsplit("@", 1)[1] not in ("localhost", "localhost.localdomain")


def rate_delay(cfg: Config) -> int:
    """Seconds between two relay deliveries, as Postfix has it (else as the role computes it)."""
    done = run(["postconf", "-h", cfg.relay_rate_delay_parameter], check=False)
    match = re.fullmatch(r"(\d+)s?", done.stdout.strip())
    if done.returncode == 0 and match:
        return int(match.group(1))
    return cfg.quota_window // max(1, cfg.quota_recipients) + 1


def probe_relay(cfg: Config, report: Report, now: float) -> None:
    attempts = relay_attempts(cfg, now)
    queued = parse_postqueue(run(["postqueue", "-j"]).stdout)
    local = local_addresses(Path(cfg.lmtp_map))
    relay_queue = [r for r in queued if goes_to_relay(r.address, local)]
    deferred = [r for r in relay_queue if r.reason]
    waiting = [r for r in relay_queue if not r.reason]
    delay = rate_delay(cfg)

    by_status: dict[str, int] = {"sent": 0, "deferred": 0, "bounced": 0, "expired": 0}
    last: dict[str, float] = {}
    for attempt in attempts:
        by_status[attempt.status] = by_status.get(attempt.status, 0) + 1
        last[attempt.status] = max(last.get(attempt.status, 0.0), attempt.at)
    used = by_status["sent"]
    left = max(0, cfg.quota_recipients - used)
    latest = max(attempts, key=lambda a: a.at) if attempts else None
    last_ok = latest is None or latest.status == "sent"

    for status, count in sorted(by_status.items()):
        report.gauge(
            "listserver_relay_attempts",
            "Delivery attempts through the provider's relay in the quota window, by status.",
            count,
            status=status,
        )
    for status, at in sorted(last.items()):
        report.gauge(
            "listserver_relay_last_attempt_timestamp_seconds",
            "Time of the latest delivery attempt through the relay with each status.",
            round(at, 3),
            status=status,
        )
    report.gauge(
        "listserver_relay_last_attempt_ok",
        "1 when the latest delivery attempt through the relay succeeded (or none was made "
        "in the quota window), 0 when it failed.",
        1.0 if last_ok else 0.0,
    )
    report.gauge(
        "listserver_relay_queue_recipients",
        "Recipients in Postfix's queue for the relay: waiting for their turn (paced) or "
        "deferred after a failed attempt.",
        len(waiting),
        state="waiting",
    )
    report.gauge(
        "listserver_relay_queue_recipients",
        "Recipients in Postfix's queue for the relay: waiting for their turn (paced) or "
        "deferred after a failed attempt.",
        len(deferred),
        state="deferred",
    )
    for queue in ("active", "deferred", "hold", "incoming", "maildrop"):
        report.gauge(
            "listserver_postfix_queue_recipients",
            "Recipients in each of Postfix's queues (any destination).",
            sum(1 for r in queued if r.queue == queue),
            queue=queue,
        )
    report.gauge(
        "listserver_quota_budget_recipients", "Recipients allowed per window.", cfg.quota_recipients
    )
    report.gauge(
        "listserver_quota_window_seconds", "Length of the rolling quota window.", cfg.quota_window
    )
    report.gauge(
        "listserver_quota_used_recipients",
        "Recipients relayed (status=sent) in the current quota window.",
        used,
    )
    report.gauge(
        "listserver_quota_left_recipients",
        "Recipients the quota still allows in the current window.",
        left,
    )
    report.gauge(
        "listserver_quota_pacing_delay_seconds",
        "Seconds between two deliveries through the relay (Postfix's rate delay).",
        delay,
    )

    if latest is None:
        relay_text = f"no delivery attempt in the last {human_age(cfg.quota_window)}"
    else:
        relay_text = (
            f"latest attempt {human_age(now - latest.at)} ago: {latest.status}"
            f" ({by_status['sent']} sent, {by_status['deferred']} deferred,"
            f" {by_status['bounced']} bounced in the window)"
        )
    relay_ok = (last_ok or not relay_queue) and by_status["bounced"] == 0
    hints = []
    if not last_ok:
        hints.append(
            "the relay refuses or cannot be reached: journalctl -t "
            f"{cfg.relay_syslog_identifier} -n 20"
        )
    if by_status["bounced"]:
        hints.append(
            "the provider refused recipients for good (Sender Mismatch?): "
            f"journalctl -t {cfg.relay_syslog_identifier} | grep status=bounced"
        )
    report.note("Relay", relay_ok, relay_text, hints)

    exhausted = left == 0 or len(relay_queue) > left
    report.note(
        "Quota",
        not exhausted,
        f"relayed {used} of {cfg.quota_recipients} in the last {human_age(cfg.quota_window)}"
        f" ({left} left; one every {delay} s at most)",
        [f"{len(relay_queue)} recipients wait but only {left} may leave in this window"]
        if exhausted
        else [],
    )
    lines = [
        f"{r.queue_id} {r.queue:<9} {r.sender or '<>'} -> {r.address}: "
        f"{r.reason or 'waiting for its turn'}"
        for r in relay_queue[: cfg.listed_recipients]
    ]
    if len(relay_queue) > cfg.listed_recipients:
        lines.append(f"... and {len(relay_queue) - cfg.listed_recipients} more (postqueue -p)")
    report.note(
        "Mail queue",
        True,
        f"{len(relay_queue)} recipients for the relay ({len(waiting)} waiting their turn,"
        f" {len(deferred)} deferred); {len(queued)} recipients queued in all",
        lines,
    )


# --- The intake ------------------------------------------------------------------

SS_CONNECTION = re.compile(r"\buid:(?P<uid>\d+)\b")
SS_LASTRCV = re.compile(r"\blastrcv:(?P<ms>\d+)\b")


def intake_sessions(ss_output: str, uid: int) -> list[float]:
    """Seconds since the IMAP server last sent data, per established session of uid.

    `ss -tinHe state established '( dport = :993 )'` prints each socket on a
    line (with uid:N) followed by an indented line of TCP info (lastrcv:MS).
    """
    found: list[float] = []
    owner: int | None = None
    for line in ss_output.splitlines():
        if not line.startswith((" ", "\t")):
            match = SS_CONNECTION.search(line)
            owner = int(match["uid"]) if match else None
            continue
        lastrcv = SS_LASTRCV.search(line)
        if owner == uid and lastrcv:
            found.append(int(lastrcv["ms"]) / 1000)
    return found


def load_state(path: Path) -> dict[str, float]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in raw.items() if isinstance(v, int | float)}


def probe_intake(cfg: Config, report: Report, now: float, state: dict[str, float]) -> None:
    if not cfg.intake_enabled:
        return
    import pwd

    uid = pwd.getpwnam(cfg.intake_user).pw_uid
    shown = run(
        ["ss", "-tinHe", "state", "established", f"( dport = :{cfg.intake_port} )"],
        check=False,
    )
    sessions = intake_sessions(shown.stdout, uid)
    connected = bool(sessions)
    if connected:
        heard = now - min(sessions)
        state["intake_last_success"] = max(state.get("intake_last_success", 0.0), heard)
    last = state.get("intake_last_success", 0.0)
    report.gauge(
        "listserver_intake_connected",
        "1 when the intake (fetchmail) holds an IMAP session with the provider's mailbox.",
        1.0 if connected else 0.0,
    )
    if last:
        report.gauge(
            "listserver_intake_last_success_timestamp_seconds",
            "Last time the intake's IMAP session received data from the mailbox (its "
            "latest successful poll or IDLE exchange).",
            round(last, 3),
        )
    age = now - last if last else None
    stale = not connected or age is None or age > cfg.intake_stale_after
    heard_text = (
        f"last heard from the mailbox {human_age(age)} ago"
        if age is not None
        else ("never heard from the mailbox")
    )
    report.note(
        "Intake",
        not stale,
        ("connected, " if connected else "NOT connected, ") + heard_text,
        [] if not stale else ["journalctl -u fetchmail-intake -n 20"],
    )


# --- The certificate -----------------------------------------------------------


def served_certificate(address: str, port: int, server_name: str) -> bytes:
    """DER of the certificate the web server presents for server_name."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((address, port), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise OSError("no certificate presented")
    return der


def not_after(der: bytes) -> float:
    """The certificate's notAfter as a Unix time (openssl x509)."""
    done = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-noout", "-enddate"],
        input=der,
        capture_output=True,
        check=True,
        timeout=COMMAND_TIMEOUT,
    )
    return parse_enddate(done.stdout.decode())


def parse_enddate(text: str) -> float:
    """'notAfter=Mar  4 15:50:00 2027 GMT' -> Unix time."""
    value = text.strip().split("=", 1)[1]
    import calendar

    return float(calendar.timegm(time.strptime(value, "%b %d %H:%M:%S %Y %Z")))


def probe_certificate(cfg: Config, report: Report, now: float) -> None:
    if not cfg.tls_server_name:
        return
    expiry = not_after(served_certificate(cfg.tls_address, cfg.tls_port, cfg.tls_server_name))
    report.gauge(
        "listserver_certificate_expiry_timestamp_seconds",
        "notAfter of the certificate nginx serves, as a Unix time.",
        expiry,
        server_name=cfg.tls_server_name,
    )
    days = (expiry - now) / 86400
    when = time.strftime("%Y-%m-%d", time.gmtime(expiry))
    report.note(
        "Certificate",
        days >= cfg.certificate_min_days,
        f"{cfg.tls_server_name} expires {when} ({days:.0f} days)",
        [] if days >= cfg.certificate_min_days else ["certbot renew; journalctl -u certbot"],
    )


# --- Disks and backups ----------------------------------------------------------


def probe_disks(cfg: Config, report: Report) -> None:
    seen: set[int] = set()
    lines, full = [], []
    for path in cfg.disk_paths:
        try:
            device = os.stat(path).st_dev
            usage = os.statvfs(path)
        except OSError:
            continue
        if device in seen:
            continue
        seen.add(device)
        size = usage.f_blocks * usage.f_frsize
        avail = usage.f_bavail * usage.f_frsize
        ratio = 1 - avail / size if size else 0.0
        line = f"{path} {ratio:.0%} used ({avail / 1e9:.1f} GB free)"
        lines.append(line)
        if ratio > cfg.disk_max_ratio:
            full.append(line)
    report.note("Disk", not full, "; ".join(full or lines))


TEXTFILE_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(?P<v>\S+)")


def read_textfile(path: Path) -> dict[str, float]:
    """Unlabelled samples of a Prometheus textfile (name -> value)."""
    values: dict[str, float] = {}
    for line in path.read_text().splitlines():
        match = TEXTFILE_SAMPLE.match(line)
        if match and not line.startswith("#"):
            values[match["name"]] = float(match["v"])
    return values


def probe_backup(cfg: Config, report: Report, now: float) -> None:
    path = Path(cfg.textfile_dir) / cfg.backup_textfile
    if not path.exists():
        report.note("Backup", True, f"no backup job reports here ({path} absent)")
        return
    values = read_textfile(path)
    success = values.get("listserver_backup_last_success_timestamp_seconds")
    result = values.get("listserver_backup_last_result")
    problems = []
    if success is None or now - success > cfg.backup_max_age:
        problems.append("no successful backup within " + human_age(cfg.backup_max_age))
    if result not in (None, 0.0):
        problems.append(f"the last run failed (result {result:g})")
    age = f"last success {human_age(now - success)} ago" if success else "never succeeded"
    report.note("Backup", not problems, age + ("; " + "; ".join(problems) if problems else ""))


# --------------------------------------------------------------------------
# Output


def human_age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * 2 or (unit == "min" and seconds >= size):
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def exposition(report: Report) -> str:
    """Prometheus text format (version 0.0.4) of every family."""
    out = []
    for family in report.families.values():
        out.append(f"# HELP {family.name} {family.help}")
        out.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(sample.labels.items()))
            name = f"{sample.name}{{{labels}}}" if labels else sample.name
            out.append(f"{name} {format_value(sample.value)}")
    return "\n".join(out) + "\n"


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Write next to the target, then rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def screen(report: Report, host: str, now: float) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
    lines = [f"listserver-status on {host}, {stamp}", ""]
    width = max((len(f.section) for f in report.findings), default=10) + 2
    for finding in report.findings:
        mark = "ok" if finding.ok else "!!"
        lines.append(f"{mark:<3}{finding.section:<{width}}{finding.text}")
        lines.extend(f"{'':<{width + 5}}{d}" for d in finding.detail)
    attention = report.attention
    lines.append("")
    if attention:
        names = ", ".join(f.section for f in attention)
        lines.append(f"{len(attention)} need attention: {names}")
    else:
        lines.append("nothing needs attention")
    return "\n".join(lines) + "\n"


PROBES: list[tuple[str, Callable[[Config, Report, float, dict[str, float]], None]]] = [
    ("units", lambda c, r, n, s: probe_units(c, r)),
    ("postgresql", lambda c, r, n, s: probe_postgresql(c, r)),
    ("mailman", lambda c, r, n, s: probe_mailman(c, r, n)),
    ("relay", lambda c, r, n, s: probe_relay(c, r, n)),
    ("intake", probe_intake),
    ("certificate", lambda c, r, n, s: probe_certificate(c, r, n)),
    ("disk", lambda c, r, n, s: probe_disks(c, r)),
    ("backup", lambda c, r, n, s: probe_backup(c, r, n)),
]


def collect(cfg: Config, now: float, state: dict[str, float]) -> Report:
    """Run every probe; a probe that fails is reported, the others still run."""
    report = Report()
    began = time.monotonic()
    for name, probe in PROBES:
        try:
            probe(cfg, report, now, state)
            ok = 1.0
        except (OSError, ValueError, KeyError, subprocess.SubprocessError) as error:
            ok = 0.0
            report.note(name.capitalize(), False, f"probe failed: {error}")
        report.gauge(
            "listserver_probe_success",
            "1 when the probe of listserver-status ran, 0 when it failed.",
            ok,
            probe=name,
        )
    report.gauge(
        "listserver_probe_duration_seconds",
        "Seconds every probe of this run took together.",
        round(time.monotonic() - began, 3),
    )
    report.gauge(
        "listserver_probe_timestamp_seconds", "Time of this run of the probes.", round(now, 3)
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="listserver-status",
        description="One screen on the list server's health; exit 1 when something needs "
        "attention.",
    )
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument(
        "--write-metrics",
        type=Path,
        metavar="FILE",
        help="write the facts as Prometheus metrics to FILE instead of the screen",
    )
    args = parser.parse_args(argv)
    try:
        cfg = Config.load(args.config)
    except (OSError, ValueError, TypeError) as error:
        print(f"listserver-status: cannot read {args.config}: {error}", file=sys.stderr)
        return 2
    now = time.time()
    state_path = Path(cfg.state_file)
    state = load_state(state_path)
    report = collect(cfg, now, state)
    if args.write_metrics:
        write_atomically(args.write_metrics, exposition(report))
        write_atomically(state_path, json.dumps(state) + "\n", mode=0o600)
        return 0
    sys.stdout.write(screen(report, socket.getfqdn(), now))
    return 1 if report.attention else 0


if __name__ == "__main__":
    sys.exit(main())
