"""The mail path end to end: outside sender -> provider stand-in -> fetchmail ->
Postfix intake -> Mailman -> Postfix relay (SASL, paced) -> stand-in -> inboxes.

Every message enters at the stand-in's port 25 from the outside client and is
read back over IMAPS from the stand-in, exactly as members would see it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from typing import Any

import pytest
import testinfra
from conftest import World, archived, mail_log, wait_for, wait_idle

LIST = "team@lab.test"
LIST_ID = "team.lab.test"
MEMBERS = ["alice@outside.test", "bjorn@outside.test", "carol@lab.test"]
MODERATOR = "moderator@outside.test"
OWNER = "owner@outside.test"
ATTACHMENT = bytes(range(256)) * 8


def message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="outside.test")
    msg.set_content(body)
    return msg


def reply_to_confirmation(world: World, confirmation: EmailMessage, sender: str) -> str:
    """Answer a `confirm TOKEN` request as a mail client would; return the token."""
    subject = str(confirmation["Subject"])
    match = re.search(r"confirm ([0-9a-f]+)", subject)
    assert match, f"not a confirmation: {subject!r}"
    assert confirmation["From"].addresses[0].addr_spec == "team-request@lab.test"
    reply_to = confirmation["Reply-To"] or confirmation["From"]
    answer = message(sender, reply_to.addresses[0].addr_spec, "Re: " + subject, "ok\n")
    answer["In-Reply-To"] = confirmation["Message-ID"]
    world.post(answer)
    return match.group(1)


def roster(rest: Callable[..., dict[str, Any]], role: str = "member") -> set[str]:
    entries = rest(f"/lists/{LIST_ID}/roster/{role}")["body"].get("entries", [])
    return {e["email"] for e in entries}


def test_non_member_post_is_held_and_moderator_notified(
    world: World,
    host: testinfra.host.Host,
    standin: testinfra.host.Host,
    rest: Callable[..., dict[str, Any]],
    token: str,
) -> None:
    stranger = f"stranger-{token}@outside.test"
    world.post(message(stranger, LIST, f"Offer {token}", f"Buy now {token}\n"))

    notices = world.expect(MODERATOR, token)
    assert any("team@lab.test" in str(n["Subject"]) or "team" in str(n["From"]) for n in notices)
    held = rest(f"/lists/{LIST_ID}/held")["body"].get("entries", [])
    assert any(token in (h.get("subject") or "") for h in held), held
    # Held means held: once nothing is in flight, no member got it.
    wait_idle(host, standin)
    assert world.fetch(MEMBERS[0], token, timeout=0) == []


def test_member_post_reaches_every_subscriber_munged_with_list_headers_and_archived(
    world: World, host: testinfra.host.Host, token: str
) -> None:
    subject = f"Grüße aus Zürich ✓ {token}"
    msg = message("Alice <alice@outside.test>", LIST, subject, f"Hallo zusammen, {token}. Ça va?\n")
    msg.add_attachment(
        ATTACHMENT, maintype="application", subtype="octet-stream", filename="daten-ü.bin"
    )
    world.post(msg)

    for member in MEMBERS:
        copy = world.expect(member, token)[0]
        sender = copy["From"].addresses[0]
        assert sender.addr_spec == LIST, f"{member}: From: {copy['From']} (no munge_from)"
        assert "Alice" in sender.display_name
        assert f"<{LIST_ID}>" in str(copy["List-Id"]), member
        assert "team-leave@lab.test" in str(copy["List-Unsubscribe"]), member
        assert subject in str(copy["Subject"]), member
        attachments = [p for p in copy.iter_attachments() if p.get_filename() == "daten-ü.bin"]
        assert attachments, f"{member}: attachment lost"
        assert attachments[0].get_content() == ATTACHMENT

    fqdn = host.backend.get_hostname()
    wait_for(
        lambda: archived(host, token, fqdn),
        120,
        f"post {token} in the HyperKitty archive",
    )


def test_non_ascii_display_name_member_is_subscribed_with_its_name(
    rest: Callable[..., dict[str, Any]],
) -> None:
    entries = rest(f"/lists/{LIST_ID}/roster/member")["body"]["entries"]
    names = {e["email"]: e.get("display_name") for e in entries}
    assert names["bjorn@outside.test"] == "Björn Ærø"
    assert "carol@lab.test" in names


def test_join_by_mail_completes_confirmation_round_trip_through_the_intake(
    world: World, rest: Callable[..., dict[str, Any]], token: str
) -> None:
    newcomer = f"newcomer-{token}@outside.test"
    world.post(message(newcomer, "team-join@lab.test", "join", "join\n"))

    confirmation = world.expect(newcomer, "confirm")[0]
    reply_to_confirmation(world, confirmation, newcomer)
    wait_for(lambda: newcomer in roster(rest), 120, f"{newcomer} in the roster")


def test_leave_by_mail_completes_confirmation_round_trip_through_the_intake(
    world: World, rest: Callable[..., dict[str, Any]], token: str
) -> None:
    leaver = f"leaver-{token}@outside.test"
    answer = rest(
        "/members",
        "POST",
        f"list_id={LIST_ID}&subscriber={leaver}&pre_verified=True&pre_confirmed=True"
        "&pre_approved=True&send_welcome_message=False",
    )
    assert answer["status"] == 201, answer
    assert leaver in roster(rest)

    world.post(message(leaver, "team-leave@lab.test", "leave", "leave\n"))
    confirmation = world.expect(leaver, "confirm")[0]
    reply_to_confirmation(world, confirmation, leaver)
    wait_for(lambda: leaver not in roster(rest), 120, f"{leaver} gone from the roster")


def test_owner_address_reaches_the_owners(world: World, token: str) -> None:
    asker = f"asker-{token}@outside.test"
    world.post(message(asker, "team-owner@lab.test", f"Question {token}", f"Hi {token}\n"))
    copy = world.expect(OWNER, token)[0]
    assert token in str(copy["Subject"])


@pytest.mark.parametrize("name", ["alice", "bjorn"])
def test_outside_members_get_each_post_exactly_once(
    world: World, host: testinfra.host.Host, standin: testinfra.host.Host, name: str
) -> None:
    """No duplicates anywhere: every Message-ID in a member's box is there once."""
    wait_idle(host, standin)
    copies = world.fetch(f"{name}@outside.test", timeout=0)
    assert copies, f"{name}@outside.test holds no post at all: the mail path tests delivered none"
    ids = [str(m["Message-ID"]) for m in copies]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, dupes


SITE_OWNER = "siteowner@outside.test"
NOLIST_FROM = "noreply@lab.test"


@pytest.mark.parametrize("local", ["noreply", "mailbox"])
def test_mail_for_no_list_bounces_to_its_sender_and_reaches_the_owner_with_its_author(
    world: World,
    host: testinfra.host.Host,
    standin: testinfra.host.Host,
    lab: dict[str, Any],
    token: str,
    local: str,
) -> None:
    """Issue 13 item 6: noreply@ (an alias Mailman sends from) and the mailbox's
    own address are delivered by the provider but are no list. The sender gets
    one bounce naming the address, from the noreply alias; the site owner gets
    one report naming the author; nothing loops and nothing is refused."""
    address = NOLIST_FROM if local == "noreply" else f"{lab['provider_standin_mailbox']}@lab.test"
    author = f"author-{token}@outside.test"
    since = time.time() - 2
    world.post(message(f"Author {token} <{author}>", address, f"Lost {token}", f"{token}\n"))

    bounce = world.expect(author, token, timeout=180)[0]
    assert bounce["From"].addresses[0].addr_spec == NOLIST_FROM, bounce["From"]
    assert str(bounce["Return-Path"]).strip("<>") == NOLIST_FROM, bounce["Return-Path"]
    assert address in str(bounce["Subject"]), bounce["Subject"]
    text = bounce.get_body(("plain",))
    assert text is not None, bounce
    assert f"<{address}>" in text.get_content()

    report = world.expect(SITE_OWNER, token, timeout=180)[0]
    assert str(report["X-Original-From"]) == author, report["X-Original-From"]
    assert f"<{author}>" in report.get_body(("plain",)).get_content()
    assert author in str(report["Subject"]), report["Subject"]
    attached = [p for p in report.iter_attachments() if p.get_filename() == "original.eml"]
    assert attached, "the original is not attached to the owner's report"
    original = BytesParser(policy=policy.default).parsebytes(attached[0].get_content())
    assert author in str(original["From"]), original["From"]

    # No loop: once nothing is in flight, one bounce and one report, and the
    # intake handed the message to the nolist transport once.
    wait_idle(host, standin)
    assert len(world.fetch(author, token, timeout=0)) == 1
    assert len(world.fetch(SITE_OWNER, token, timeout=0)) == 1
    lines = mail_log(host, since, "postfix/intake/smtpd", "postfix/pipe", "postfix/provider")
    refused = [t for _a, _i, t in lines if "reject:" in t]
    assert refused == [], refused
    handed = [t for _a, i, t in lines if i == "postfix/pipe" and f"to=<{address}>" in t]
    assert len(handed) == 1, handed
    assert "status=sent" in handed[0], handed
