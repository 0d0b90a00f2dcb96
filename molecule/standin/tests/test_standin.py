"""Behaviour of the mail provider stand-in, seen from a client as a list server sees it.

Each test names the provider rule it proves (/work/shared/PROVIDER.md). The quota test
comes last: it waits for a clean window and fills it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import testinfra
from conftest import STANDIN, count_in_mail_log, standin_logs

ACCOUNT = "mailman@lab.test"


def subject() -> str:
    return f"probe-{uuid.uuid4().hex[:12]}"


def test_services_run_and_listen(standin: testinfra.host.Host) -> None:
    for unit in ("postfix", "dovecot", "standin-milter", "standin-mail-api", "standin-maps.path"):
        assert standin.service(unit).is_running or unit.endswith(".path"), unit
        assert standin.service(unit).is_enabled, unit
    for port in (25, 587, 465, 993, 8080):
        assert standin.socket(f"tcp://0.0.0.0:{port}").is_listening, port
    assert standin.run("postfix check").rc == 0


def test_never_delivers_outside_the_lab(standin: testinfra.host.Host) -> None:
    assert standin.run("postconf -h default_transport").stdout.startswith("error:")
    assert standin.run("postconf -h smtp_dns_support_level").stdout.strip() == "disabled"


def test_certificates_verify_against_the_test_ca(run_client: Any) -> None:
    out = run_client(
        """
import socket
names = []
for port in (993, 465):
    with socket.create_connection((HOST, port), timeout=10) as raw:
        with context().wrap_socket(raw, server_hostname=HOST) as tls:
            names.append([v for k, v in tls.getpeercert()["subjectAltName"]])
smtp = smtplib.SMTP(HOST, 587, timeout=10)
smtp.starttls(context=context())
names.append([v for k, v in smtp.sock.getpeercert()["subjectAltName"]])
print(json.dumps(names))
"""
    )
    assert out == [[STANDIN]] * 3


def test_submission_offers_auth_only_after_starttls(run_client: Any) -> None:
    out = run_client(
        """
smtp = smtplib.SMTP(HOST, 587, timeout=10)
smtp.ehlo("client")
before = smtp.has_extn("auth")
code, _ = smtp.mail("mailman@lab.test")
smtp.rset()
smtp.starttls(context=context())
smtp.ehlo("client")
after = smtp.esmtp_features.get("auth", "")
print(json.dumps({"before": before, "mail_code": code, "after": after}))
"""
    )
    assert out["before"] is False
    assert out["mail_code"] == 530
    assert set(out["after"].upper().split()) == {"PLAIN", "LOGIN"}


def test_password_with_special_characters_logs_in_everywhere(
    run_client: Any, lab: dict[str, Any]
) -> None:
    out = run_client(
        """
results = {}
for port, mech in ((587, "PLAIN"), (587, "LOGIN"), (465, "PLAIN")):
    if port == 465:
        smtp = smtplib.SMTP_SSL(HOST, port, context=context(), timeout=10)
    else:
        smtp = smtplib.SMTP(HOST, port, timeout=10)
        smtp.starttls(context=context())
    smtp.ehlo("client")
    smtp.user, smtp.password = os.environ["USER_NAME"], os.environ["PASSWORD"]
    code, _ = smtp.auth(mech, getattr(smtp, "auth_" + mech.lower()))
    results[f"{port}/{mech}"] = code
    smtp.quit()
conn = imap(os.environ["USER_NAME"], os.environ["PASSWORD"])
results["imap"] = conn.select("INBOX")[0]
print(json.dumps(results))
""",
        USER_NAME=ACCOUNT,
        PASSWORD=lab["provider_standin_password"],
    )
    assert out == {"587/PLAIN": 235, "587/LOGIN": 235, "465/PLAIN": 235, "imap": "OK"}


def test_wrong_password_is_refused(run_client: Any) -> None:
    out = run_client(
        """
refusal = send("mailman@lab.test", ["bob@outside.test"], b"x",
               user="mailman@lab.test", password="wrong")
try:
    imap("mailman@lab.test", "wrong")
    imap_ok = True
except imaplib.IMAP4.error:
    imap_ok = False
print(json.dumps({"smtp": refusal["error"], "imap_ok": imap_ok}))
"""
    )
    assert out["smtp"][0] == 535
    assert out["imap_ok"] is False


def test_alias_sender_is_delivered_to_the_outside_mailbox(
    run_client: Any, lab: dict[str, Any]
) -> None:
    probe = subject()
    out = run_client(
        """
data = message("Team <team@lab.test>", ["bob@outside.test"], os.environ["SUBJECT"])
sent = send("team-bounces@lab.test", ["bob@outside.test"], data,
            user="mailman@lab.test", password=os.environ["PASSWORD"])
got = fetch("bob@outside.test", os.environ["OUTSIDE_PASSWORD"], os.environ["SUBJECT"])
print(json.dumps({"sent": sent, "got": got}))
""",
        SUBJECT=probe,
        PASSWORD=lab["provider_standin_password"],
        OUTSIDE_PASSWORD=lab["provider_standin_outside_password"],
    )
    assert out["sent"] == {"refused": {}, "error": None}
    assert len(out["got"]) == 1
    assert out["got"][0]["return-path"] == ["<team-bounces@lab.test>"]


def test_envelope_sender_that_is_no_alias_is_refused(
    run_client: Any, standin: testinfra.host.Host, lab: dict[str, Any]
) -> None:
    before = count_in_mail_log(standin, "Sender Mismatch")
    out = run_client(
        """
data = message("Team <team@lab.test>", ["bob@outside.test"], "mismatch")
print(json.dumps(send("stranger@lab.test", ["bob@outside.test"], data,
                      user="mailman@lab.test", password=os.environ["PASSWORD"])))
""",
        PASSWORD=lab["provider_standin_password"],
    )
    assert out["error"][0] == 553, out
    assert "Sender Mismatch" in out["error"][1]
    assert count_in_mail_log(standin, "Sender Mismatch") == before + 1, standin_logs(standin)


def test_from_header_that_is_no_alias_is_refused(
    run_client: Any, standin: testinfra.host.Host, lab: dict[str, Any]
) -> None:
    before = count_in_mail_log(standin, "Sender Mismatch")
    probe = subject()
    out = run_client(
        """
data = message("A Member <member@example.net>", ["bob@outside.test"], os.environ["SUBJECT"])
sent = send("team-bounces@lab.test", ["bob@outside.test"], data,
            user="mailman@lab.test", password=os.environ["PASSWORD"])
got = fetch("bob@outside.test", os.environ["OUTSIDE_PASSWORD"], os.environ["SUBJECT"],
            expect=1, timeout=3)
print(json.dumps({"sent": sent, "got": got}))
""",
        SUBJECT=probe,
        PASSWORD=lab["provider_standin_password"],
        OUTSIDE_PASSWORD=lab["provider_standin_outside_password"],
    )
    assert out["sent"]["error"][0] == 550, out
    assert "Sender Mismatch" in out["sent"]["error"][1]
    assert out["got"] == []
    assert count_in_mail_log(standin, "Sender Mismatch") == before + 1, standin_logs(standin)


def test_aliases_wired_by_the_module_exist_in_the_double(
    run_client: Any, lab: dict[str, Any]
) -> None:
    out = run_client(
        """
import urllib.request
req = urllib.request.Request(
    f"http://{HOST}:8080/1/mail_hostings/1234/mailboxes/mailman/aliases",
    headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
print(urllib.request.urlopen(req, timeout=10).read().decode())
""",
        TOKEN=lab["provider_standin_api_token"],
    )
    suffixes = [
        "",
        "-bounces",
        "-confirm",
        "-join",
        "-leave",
        "-owner",
        "-request",
        "-subscribe",
        "-unsubscribe",
    ]
    assert set(out["data"]["aliases"]) >= {f"team{s}" for s in suffixes} | {"postorius", "noreply"}


def test_outside_mail_to_aliases_lands_in_the_mailbox_with_the_alias_header(
    run_client: Any, lab: dict[str, Any]
) -> None:
    probe = subject()
    out = run_client(
        """
data = message("Someone <someone@outside.test>", ["team@lab.test"], os.environ["SUBJECT"])
sent = send("someone@outside.test", ["team@lab.test", "team-join@lab.test"], data, port=25)
got = fetch("mailman@lab.test", os.environ["PASSWORD"], os.environ["SUBJECT"], expect=2)
print(json.dumps({"sent": sent, "got": got}))
""",
        SUBJECT=probe,
        PASSWORD=lab["provider_standin_password"],
    )
    header = lab.get("provider_standin_original_recipient_header", "Delivered-To").lower()
    assert out["sent"] == {"refused": {}, "error": None}
    assert sorted(msg[header] for msg in out["got"]) == [["team-join@lab.test"], ["team@lab.test"]]


def test_port_25_is_no_relay_and_knows_its_recipients(run_client: Any) -> None:
    out = run_client(
        """
smtp = smtplib.SMTP(HOST, 25, timeout=10)
smtp.ehlo("client")
auth = smtp.has_extn("auth")
smtp.mail("someone@outside.test")
relay = smtp.rcpt("bob@outside.test")
unknown = smtp.rcpt("nobody@lab.test")
elsewhere = smtp.rcpt("someone@example.com")
print(json.dumps({"auth": auth, "relay": relay[0], "unknown": unknown[0],
                  "elsewhere": elsewhere[0]}))
"""
    )
    assert out == {"auth": False, "relay": 554, "unknown": 550, "elsewhere": 554}


def test_alias_added_through_the_api_goes_live(run_client: Any, lab: dict[str, Any]) -> None:
    alias = f"live-{uuid.uuid4().hex[:8]}"
    out = run_client(
        """
import urllib.request
alias = os.environ["ALIAS"]
base = f"http://{HOST}:8080/1/mail_hostings/1234/mailboxes/mailman/aliases"
auth = {"Authorization": "Bearer " + os.environ["TOKEN"], "Content-Type": "application/json"}
urllib.request.urlopen(urllib.request.Request(base, data=json.dumps({"alias": alias}).encode(),
                                              headers=auth, method="POST"), timeout=10)
codes = []
for _ in range(40):
    smtp = smtplib.SMTP(HOST, 25, timeout=10)
    smtp.ehlo("client")
    smtp.mail("someone@outside.test")
    codes.append(smtp.rcpt(alias + "@lab.test")[0])
    smtp.quit()
    if codes[-1] == 250:
        break
    time.sleep(0.5)
urllib.request.urlopen(urllib.request.Request(base + "/" + alias, headers=auth, method="DELETE"),
                       timeout=10)
gone = None
for _ in range(40):
    smtp = smtplib.SMTP(HOST, 25, timeout=10)
    smtp.ehlo("client")
    smtp.mail("someone@outside.test")
    gone = smtp.rcpt(alias + "@lab.test")[0]
    smtp.quit()
    if gone == 550:
        break
    time.sleep(0.5)
print(json.dumps({"first": codes[0], "last": codes[-1], "tries": len(codes), "gone": gone}))
""",
        ALIAS=alias,
        TOKEN=lab["provider_standin_api_token"],
    )
    assert out["first"] == 550, "the alias existed before it was created"
    assert out["last"] == 250, out
    assert out["gone"] == 550, out


def test_imap_idle_pushes_new_mail_within_seconds(run_client: Any, lab: dict[str, Any]) -> None:
    out = run_client(
        """
conn = imap("mailman@lab.test", os.environ["PASSWORD"])
conn.select("INBOX")
tag = conn._new_tag()
conn.send(tag + b" IDLE\\r\\n")
assert conn.readline().startswith(b"+")
start = time.monotonic()
data = message("someone@outside.test", ["team@lab.test"], "idle")
send("someone@outside.test", ["team@lab.test"], data, port=25)
conn.sock.settimeout(10)
line = b""
while b"EXISTS" not in line:
    line = conn.readline()
elapsed = time.monotonic() - start
conn.send(b"DONE\\r\\n")
print(json.dumps({"elapsed": elapsed, "line": line.decode().strip()}))
""",
        PASSWORD=lab["provider_standin_password"],
    )
    assert out["line"].endswith("EXISTS")
    assert out["elapsed"] < 5, out


def test_recipient_quota_refuses_with_4xx_and_recovers_after_the_window(
    run_client: Any, standin: testinfra.host.Host, lab: dict[str, Any]
) -> None:
    quota = lab["provider_standin_quota_recipients"]
    window = lab["provider_standin_quota_window_seconds"]
    time.sleep(window + 1)  # Earlier tests' recipients leave the window.
    before = count_in_mail_log(standin, "Quota exceeded")
    out = run_client(
        """
quota, window = int(os.environ["QUOTA"]), float(os.environ["WINDOW"])
kw = {"user": "mailman@lab.test", "password": os.environ["PASSWORD"]}
def one(n):
    rcpt = f"quota{n}@outside.test"
    return send("mailman@lab.test", [rcpt], message("mailman@lab.test", [rcpt], f"quota {n}"), **kw)
within = [one(n) for n in range(quota)]
over = one(quota)
time.sleep(window + 1)
after = one(quota + 1)
print(json.dumps({"within": within, "over": over, "after": after}))
""",
        QUOTA=str(quota),
        WINDOW=str(window),
        PASSWORD=lab["provider_standin_password"],
    )
    assert out["within"] == [{"refused": {}, "error": None}] * quota
    refusal = out["over"]["refused"][f"quota{quota}@outside.test"]
    assert 400 <= refusal[0] < 500, refusal
    assert "Quota exceeded" in refusal[1]
    assert out["after"] == {"refused": {}, "error": None}
    assert count_in_mail_log(standin, "Quota exceeded") == before + 1, standin_logs(standin)
