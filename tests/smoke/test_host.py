"""Smoke tests on the host itself: services, listeners, lists, relay (read-only)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import testinfra
from conftest import Expected, run_python

# Unit -> the inventory group whose hosts run it.
UNITS = {
    "postgresql": "database",
    "postfix": "mailman",
    "mailman3": "mailman",
    "mailman3-web": "mailman",
    "fetchmail-intake": "mailman",
    "nginx": "web",
    "prometheus-node-exporter": "mailman",
    "prometheus-postfix-exporter": "mailman",
}

RELAY_NEXTHOP = re.compile(r"provider:\[(?P<host>[^]]+)\]:(?P<port>\d+)")

# Listeners that must never face the network: port -> (group, what it is).
LOOPBACK_ONLY = {
    5432: ("database", "PostgreSQL"),
    8001: ("mailman", "Mailman REST API"),
    8024: ("mailman", "Mailman LMTP"),
    8000: ("mailman", "web app's archiver endpoint"),
    25: ("mailman", "Postfix submission for local programs"),
    10026: ("mailman", "Postfix intake listener"),
    9100: ("mailman", "node exporter (nginx serves it to the allow-listed Prometheus)"),
    9154: ("mailman", "Postfix exporter (nginx serves it to the allow-listed Prometheus)"),
}

# Reads the REST credentials from mailman.cfg on the host (root only), so the
# password never crosses the wire, and reports each list's config and rosters.
LISTS = """
import base64, configparser, json, os, urllib.error, urllib.request
cfg = configparser.RawConfigParser(strict=False)
cfg.read("/etc/mailman3/mailman.cfg")
ws = cfg["webservice"]
auth = base64.b64encode((ws["admin_user"] + ":" + ws["admin_pass"]).encode()).decode()
base = "http://%s:%s/3.1" % (ws["hostname"], ws["port"])
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Basic " + auth})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None
def emails(path):
    body = get(path)[1] or {}
    return sorted(e["email"] for e in body.get("entries", []))
out = {}
for name in json.loads(os.environ["LISTS"]):
    status, config = get("/lists/" + name + "/config")
    out[name] = {"status": status, "config": config}
    if status == 200:
        out[name]["owners"] = emails("/lists/" + name + "/roster/owner")
        out[name]["members"] = emails("/lists/" + name + "/roster/member")
print(json.dumps(out))
"""

# Opens a session to the relay the way Postfix does: STARTTLS (or TLS on 465),
# certificate verified against Postfix's CA file and the relay's name.
RELAY_TLS = """
import json, os, smtplib, ssl
host, port = os.environ["RELAY"], int(os.environ["PORT"])
ctx = ssl.create_default_context(cafile=os.environ["CAFILE"])
try:
    if port == 465:
        s = smtplib.SMTP_SSL(host, port, context=ctx, timeout=20)
    else:
        s = smtplib.SMTP(host, port, timeout=20)
        s.starttls(context=ctx)
    s.ehlo()
    out = {"ok": True, "tls": s.sock.version(), "auth": s.esmtp_features.get("auth", "")}
    s.quit()
except (OSError, smtplib.SMTPException) as e:
    out = {"ok": False, "error": type(e).__name__ + ": " + str(e)}
print(json.dumps(out))
"""


def status(host: testinfra.host.Host, unit: str) -> str:
    """systemctl status with the unit's last log lines, for a failure message."""
    return str(host.run(f"systemctl status {unit} --no-pager --lines=30").stdout)


@pytest.mark.parametrize("unit", list(UNITS))
def test_service_is_active_and_enabled(
    host: testinfra.host.Host, expected: Expected, unit: str
) -> None:
    expected.require_group(UNITS[unit])
    if unit == "fetchmail-intake" and not expected.intake:
        pytest.skip("no provider mailbox in the inventory: no intake")
    service = host.service(unit)
    assert service.is_running, status(host, unit)
    assert service.is_enabled, f"{unit} would not start after a reboot"


@pytest.mark.parametrize("port", list(LOOPBACK_ONLY))
def test_internal_port_listens_on_loopback_only(
    host: testinfra.host.Host, expected: Expected, port: int
) -> None:
    group, what = LOOPBACK_ONLY[port]
    expected.require_group(group)
    sockets = [s for s in host.socket.get_listening_sockets() if s.startswith("tcp://")]
    bound = [s for s in sockets if s.endswith(f":{port}")]
    assert bound, f"nothing listens on port {port} ({what})"
    exposed = [s for s in bound if "127.0.0.1" not in s and "::1" not in s]
    assert not exposed, f"{what} listens beyond the loopback: {exposed}"


def test_listserver_status_runs_and_its_metrics_are_fresh(
    host: testinfra.host.Host, expected: Expected
) -> None:
    expected.require_group("mailman")
    screen = host.run("listserver-status")
    # 0: nothing needs attention, 1: something does (a smoke test only reads);
    # 2 would be the tool itself failing.
    assert screen.rc in (0, 1), screen.stdout + screen.stderr
    assert "PostgreSQL" in screen.stdout, screen.stdout
    assert "Mailman" in screen.stdout, screen.stdout
    textfile = host.file("/var/lib/prometheus/node-exporter/listserver.prom")
    assert textfile.exists, "listserver-metrics.timer has not written its metrics"
    assert "mailman3_up " in textfile.content_string


def test_lists_of_the_inventory_exist_with_dmarc_munge_from(
    host: testinfra.host.Host, expected: Expected
) -> None:
    expected.require_group("mailman")
    wanted = {f"{x['name']}@{x['domain']}": x for x in expected.lists}
    if not wanted:
        pytest.skip("the inventory defines no list")
    found: dict[str, Any] = run_python(host, LISTS, LISTS=json.dumps(sorted(wanted)))
    problems = [p for name, x in wanted.items() for p in list_problems(name, x, found[name])]
    assert not problems, "\n".join(problems)


def list_problems(name: str, wanted: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """How one list on the host differs from its definition in the inventory."""
    if wanted.get("state", "present") == "absent":
        return [] if found["status"] == 404 else [f"{name}: marked absent but still exists"]
    if found["status"] != 200:
        return [f"{name}: missing (REST API answered {found['status']})"]
    config, settings = found["config"], wanted.get("settings") or {}
    problems = []
    want = {
        "dmarc_mitigate_action": "munge_from",
        "dmarc_mitigate_unconditionally": True,
        **settings,
    }
    if "description" in wanted:
        want["description"] = wanted["description"]
    for key, value in want.items():
        if config.get(key) != value:
            problems.append(f"{name}: {key} is {config.get(key)!r}, the inventory says {value!r}")
    owners = sorted(o.lower() for o in wanted.get("owners", []))
    if found["owners"] != owners:
        problems.append(f"{name}: owners are {found['owners']}, the inventory says {owners}")
    addresses = [m if isinstance(m, str) else m["address"] for m in wanted.get("members", [])]
    members = {a.lower() for a in addresses}
    if missing := sorted(members - set(found["members"])):
        problems.append(f"{name}: members missing: {missing}")
    return problems


def relay(host: testinfra.host.Host, expected: Expected) -> tuple[str, str, dict[str, str]]:
    """The relay's name and port from Postfix's configuration, and that configuration."""
    expected.require_group("mailman")
    if not expected.relay_host:
        pytest.skip("no provider mailbox in the inventory: no relay, mail stays queued")
    names = "default_transport smtp_tls_security_level smtp_sasl_auth_enable smtp_tls_CAfile"
    conf = dict(
        line.split(" = ", 1) for line in host.check_output(f"postconf {names}").splitlines()
    )
    match = RELAY_NEXTHOP.fullmatch(conf["default_transport"])
    assert match, f"mail does not leave through the provider: {conf['default_transport']}"
    return match["host"], match["port"], conf


def test_mail_leaves_through_the_relay_with_verified_tls_and_sasl(
    host: testinfra.host.Host, expected: Expected
) -> None:
    relay_host, _, conf = relay(host, expected)
    assert relay_host == expected.relay_host
    assert conf["smtp_tls_security_level"] in ("secure", "verify"), conf
    assert conf["smtp_sasl_auth_enable"] == "yes", conf


def test_relay_presents_a_valid_certificate_to_the_host(
    host: testinfra.host.Host, expected: Expected
) -> None:
    relay_host, port, conf = relay(host, expected)
    env = {"RELAY": relay_host, "PORT": port, "CAFILE": conf["smtp_tls_CAfile"]}
    answer = run_python(host, RELAY_TLS, **env)
    assert answer["ok"], f"TLS to {relay_host}:{port} failed: {answer['error']}"
    assert answer["auth"], "the relay offers no SMTP AUTH over TLS"


@pytest.mark.parametrize(
    "path",
    [
        "/etc/mailman3/mailman.cfg",
        "/etc/mailman3/mailman-web.py",
        "/etc/mailman3/mailman-hyperkitty.cfg",
        "/etc/postfix/sasl_passwd",
    ],
)
def test_secret_file_is_not_world_readable(
    host: testinfra.host.Host, expected: Expected, path: str
) -> None:
    expected.require_group("mailman")
    secret = host.file(path)
    if not secret.exists:
        pytest.skip(f"{path} does not exist here")
    assert secret.mode & 0o007 == 0, f"{path} is readable by anyone ({secret.mode:o})"
