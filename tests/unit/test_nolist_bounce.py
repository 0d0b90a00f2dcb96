"""roles/postfix/files/listserver-nolist: mail for no list (issue 13 item 6).

The sender gets a bounce naming the address, from an alias (envelope and
From:, no Sender Mismatch); the owner's report keeps the author; automatic
mail is never answered (no loop).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import sys
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import ModuleType
from typing import Any

import pytest
from helpers import ROOT


def load() -> ModuleType:
    path = ROOT / "roles" / "postfix" / "files" / "listserver-nolist"
    loader = importlib.machinery.SourceFileLoader("listserver_nolist", str(path))
    spec = importlib.util.spec_from_loader("listserver_nolist", loader)
    assert spec
    module = importlib.util.module_from_spec(spec)
    sys.modules["listserver_nolist"] = module
    loader.exec_module(module)
    return module


NOLIST = load()
AUTHOR = "Stranger <stranger@outside.test>"


def original(**headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = AUTHOR
    msg["To"] = "noreply@lab.test"
    msg["Subject"] = "Hello token123"
    msg["Message-ID"] = "<abc@outside.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("body token123\n")
    return msg.as_bytes(policy=policy.SMTP)


def run(monkeypatch: pytest.MonkeyPatch, raw: bytes, sender: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def fake(msg: EmailMessage, envelope_from: str, rcpt: str) -> None:
        sent.append({"msg": msg, "from": envelope_from, "rcpt": rcpt})

    class Stdin:
        buffer = type("B", (), {"read": staticmethod(lambda: raw)})()

    monkeypatch.setattr(NOLIST, "sendmail", fake)
    monkeypatch.setattr(NOLIST.sys, "stdin", Stdin())
    rc = NOLIST.main(["x", sender, "noreply@lab.test", "noreply", "postmaster"])
    assert rc == 0
    return sent


def test_the_sender_gets_a_bounce_naming_the_address_from_an_alias(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = run(monkeypatch, original(), "stranger@outside.test")
    bounce = next(s for s in sent if s["rcpt"] == "stranger@outside.test")
    assert bounce["from"] == "noreply@lab.test"
    msg = bounce["msg"]
    assert msg["From"].addresses[0].addr_spec == "noreply@lab.test"
    assert "noreply@lab.test" in str(msg["Subject"])
    assert "<noreply@lab.test>" in msg.get_body(("plain",)).get_content()
    assert str(msg["Auto-Submitted"]) == "auto-replied"
    # Only the original's headers go back, not the (possibly large) body.
    headers = [p for p in msg.iter_attachments() if p.get_content_type() == "text/rfc822-headers"]
    assert headers
    assert b"Hello token123" in headers[0].get_payload(decode=True)
    assert b"body token123" not in headers[0].get_payload(decode=True)


def test_the_owner_report_keeps_the_author(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = run(monkeypatch, original(), "stranger@outside.test")
    report = next(s for s in sent if s["rcpt"] == "postmaster")
    assert report["from"] == "noreply@lab.test"
    msg = report["msg"]
    assert msg["From"].addresses[0].addr_spec == "noreply@lab.test"
    # The relay rewrites sender headers off the list domains: no Reply-To.
    assert msg["Reply-To"] is None
    assert str(msg["X-Original-From"]) == "stranger@outside.test"
    assert "stranger@outside.test" in str(msg["Subject"])
    raw = msg.as_bytes(policy=policy.SMTP)
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    attached = [p for p in parsed.iter_attachments() if p.get_filename() == "original.eml"]
    assert attached, "original not attached"
    # Bytes, not message/rfc822: no nested From: for a provider's header checks.
    assert attached[0].get_content_type() == "application/octet-stream"
    assert b"From: Stranger <stranger@outside.test>" not in raw
    inner = BytesParser(policy=policy.default).parsebytes(attached[0].get_content())
    assert str(inner["From"]) == AUTHOR
    assert "body token123" in inner.get_content()


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("MAILER-DAEMON", {}),
        ("", {}),
        ("noreply@lab.test", {}),
        ("NoReply@Lab.Test", {}),
        ("stranger@outside.test", {"Auto_Submitted": "auto-replied"}),
        ("stranger@outside.test", {"Precedence": "bulk"}),
        ("stranger@outside.test", {"Precedence": "list"}),
    ],
)
def test_automatic_mail_is_not_answered_but_still_reported(
    monkeypatch: pytest.MonkeyPatch, sender: str, headers: dict[str, str]
) -> None:
    sent = run(monkeypatch, original(**headers), sender)
    assert [s["rcpt"] for s in sent] == ["postmaster"]
    assert "No bounce was sent" in sent[0]["msg"].get_body(("plain",)).get_content()


def test_auto_submitted_no_is_a_person(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = run(monkeypatch, original(Auto_Submitted="no"), "stranger@outside.test")
    assert sorted(s["rcpt"] for s in sent) == ["postmaster", "stranger@outside.test"]


def test_a_failed_sendmail_is_a_temporary_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(msg: EmailMessage, envelope_from: str, rcpt: str) -> None:
        raise OSError("no sendmail")

    class Stdin:
        buffer = type("B", (), {"read": staticmethod(original)})()

    monkeypatch.setattr(NOLIST, "sendmail", broken)
    monkeypatch.setattr(NOLIST.sys, "stdin", Stdin())
    assert NOLIST.main(["x", "a@b.c", "x@lab.test", "noreply", "postmaster"]) == 75


def test_the_transport_runs_it_once_per_recipient_with_sender_and_recipient() -> None:
    master = (ROOT / "roles/postfix/templates/etc/postfix/master.cf.j2").read_text()
    main = (ROOT / "roles/postfix/templates/etc/postfix/main.cf.j2").read_text()
    assert "argv={{ __postfix_nolist_script }} ${sender} ${recipient}" in master
    assert "nolist_destination_recipient_limit = 1" in main
    assert "static:{FILTER nolist:no-list}" in main
    assert "-o smtpd_reject_unlisted_recipient=no" in master


def test_a_post_too_large_is_bounced_with_the_limit_and_reported_by_its_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[dict[str, Any]] = []

    def fake(msg: EmailMessage, envelope_from: str, rcpt: str) -> None:
        sent.append({"msg": msg, "from": envelope_from, "rcpt": rcpt})

    raw = original()

    class Stdin:
        buffer = type("B", (), {"read": staticmethod(lambda: raw)})()

    monkeypatch.setattr(NOLIST, "sendmail", fake)
    monkeypatch.setattr(NOLIST.sys, "stdin", Stdin())
    argv = [
        "x",
        "stranger@outside.test",
        "team@lab.test",
        "noreply",
        "postmaster",
        "too-big",
        "100",
    ]
    assert NOLIST.main(argv) == 0
    bounce = next(s for s in sent if s["rcpt"] == "stranger@outside.test")
    assert bounce["from"] == "noreply@lab.test"
    assert "too large" in str(bounce["msg"]["Subject"])
    text = bounce["msg"].get_body(("plain",)).get_content()
    assert f"it is {len(raw)} bytes" in text
    assert "at most 100 bytes" in text
    report = next(s for s in sent if s["rcpt"] == "postmaster")["msg"]
    assert str(report["X-Original-From"]) == "stranger@outside.test"
    types = [p.get_content_type() for p in report.iter_attachments()]
    assert types == ["text/rfc822-headers"], "a too-large original must not ride in the report"


def load_policy() -> ModuleType:
    path = ROOT / "roles" / "postfix" / "files" / "listserver-intake-policy"
    loader = importlib.machinery.SourceFileLoader("listserver_intake_policy", str(path))
    spec = importlib.util.spec_from_loader("listserver_intake_policy", loader)
    assert spec
    module = importlib.util.module_from_spec(spec)
    sys.modules["listserver_intake_policy"] = module
    loader.exec_module(module)
    return module


def test_the_intake_size_gate_filters_declared_sizes_above_its_limit() -> None:
    policy_module = load_policy()
    requests = (
        "request=smtpd_access_policy\nprotocol_state=RCPT\nsize=7259749\n\n"
        "request=smtpd_access_policy\nprotocol_state=RCPT\nsize=7259748\n\n"
        "request=smtpd_access_policy\nprotocol_state=RCPT\nsize=0\n\n"
        "request=smtpd_access_policy\nprotocol_state=RCPT\n\n"
    )
    out = io.StringIO()
    policy_module.serve(io.StringIO(requests), out, 7259748)
    assert out.getvalue().split("\n\n")[:4] == [
        "action=FILTER nolist:too-big",
        "action=DUNNO",
        "action=DUNNO",
        "action=DUNNO",
    ]


def test_the_size_gate_and_its_transport_are_wired_in_the_templates() -> None:
    master = (ROOT / "roles/postfix/templates/etc/postfix/master.cf.j2").read_text()
    main = (ROOT / "roles/postfix/templates/etc/postfix/main.cf.j2").read_text()
    assert "check_policy_service unix:private/intakepolicy" in main
    assert "argv={{ __postfix_intake_policy_script }} {{ postfix_intake_message_size_limit }}" in (
        master
    )
    assert "${nexthop} {{ postfix_intake_message_size_limit }}" in master
    # The intake must not refuse by size: fetchmail deletes a message refused with 552.
    assert "-o message_size_limit" not in master
