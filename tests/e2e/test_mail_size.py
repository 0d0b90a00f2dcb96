"""Issue 13 item 5: size limits coherent end to end.

A post just under the largest size the list server takes in is held (the
list's max_message_size) and Mailman's notice to the owners, which carries the
post, must leave through the list server's own Postfix and the relay:
nothing refused on the way (before the fix: `message file too big`, retried
for five days, never delivered).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import testinfra
from conftest import World, mail_log, wait_for, wait_idle
from test_mail_path import LIST, LIST_ID, MEMBERS, OWNER, message

GATE = re.compile(r"argv=\S+listserver-intake-policy (\d+)")
# Headers the provider, fetchmail and the intake add to a post on its way in.
WAY_IN = 32 * 1024
REFUSALS = ("too big", "size exceeds", "size limit exceeded", "reject:")


def postconf(host: testinfra.host.Host, *args: str) -> str:
    result = host.run("postconf " + " ".join(args))
    assert result.rc == 0, result.stderr
    return str(result.stdout)


def intake_limit(host: testinfra.host.Host) -> int:
    """The largest post the intake hands to Mailman: the size gate's limit
    (master.cf intakepolicy); Postfix's own limit if there is no gate."""
    found = GATE.search(postconf(host, "-M"))
    return int(found.group(1)) if found else int(postconf(host, "-h", "message_size_limit"))


def provider_limit(lab: dict[str, Any]) -> int:
    return int(lab.get("listserver_message_size_limit", 10000000))


def test_a_post_near_the_size_limit_is_held_and_its_owner_notice_arrives(
    world: World,
    host: testinfra.host.Host,
    standin: testinfra.host.Host,
    rest: Callable[..., dict[str, Any]],
    lab: dict[str, Any],
    token: str,
) -> None:
    relay = provider_limit(lab)
    standin_limit = int(postconf(standin, "-h", "message_size_limit"))
    # The largest post that reaches Mailman: just under what the intake (and
    # the provider's inbound MX) take.
    size = min(intake_limit(host), standin_limit) - WAY_IN
    since = time.time() - 2
    sent = world.post(
        message("alice@outside.test", LIST, f"Big {token}", f"Large post {token}\n"), pad_to=size
    )
    assert size - 4096 <= sent["size"] <= size, sent["size"]

    notices, sizes = world.read(OWNER, token, timeout=420, max_bytes=256 * 1024)
    assert notices, f"{OWNER}: no notice of the held post {token}"
    print(f"post {sent['size']} bytes, notice {sizes[0]} bytes, relay limit {relay}")
    assert sent["size"] <= sizes[0] <= relay, (sent["size"], sizes[0], relay)

    held = rest(f"/lists/{LIST_ID}/held")["body"].get("entries", [])
    mine = [h for h in held if token in (h.get("subject") or "")]
    assert mine, held
    # Held means held: once nothing is in flight, no member got a copy. The
    # poster (a member too) does get Mailman's "awaits moderator approval"
    # notice, which names the post in its body, not in its Subject.
    wait_idle(host, standin)
    found = world.fetch(MEMBERS[0], token, timeout=0)
    copies = [m for m in found if f"Big {token}" in str(m["Subject"])]
    assert copies == [], [str(m["Subject"]) for m in found]

    lines = mail_log(host, since)
    refused = [f"{i}: {t}" for _a, i, t in lines if any(r in t.lower() for r in REFUSALS)]
    assert refused == [], refused
    assert host.file("/var/log/mailman3/smtp.log").exists
    mailman = host.run(f"grep -ihE 'too big|552' /var/log/mailman3/smtp.log | grep -F {token}")
    assert mailman.stdout.strip() == "", mailman.stdout

    # Leave no 7 MB held message behind for the later tests.
    for entry in mine:
        answer = rest(f"/lists/{LIST_ID}/held/{entry['request_id']}", "POST", "action=discard")
        assert answer["status"] in (200, 204), answer
    wait_for(
        lambda: (
            not any(
                token in (h.get("subject") or "")
                for h in rest(f"/lists/{LIST_ID}/held")["body"].get("entries", [])
            )
        ),
        60,
        f"the held post {token} discarded",
    )


def test_a_post_above_the_size_gate_is_bounced_to_its_sender_not_dropped(
    world: World,
    host: testinfra.host.Host,
    standin: testinfra.host.Host,
    lab: dict[str, Any],
    token: str,
) -> None:
    """Above the gate, a post would give a notice the relay refuses: its sender
    gets a bounce "too large" naming the limit, the site owner a report with
    its headers; it reaches neither Mailman nor any member, nothing refused
    (a refusal at the intake would make fetchmail delete it silently)."""
    gate = intake_limit(host)
    standin_limit = int(postconf(standin, "-h", "message_size_limit"))
    size = min(gate + 256 * 1024, standin_limit - WAY_IN, provider_limit(lab))
    assert size > gate + 64 * 1024, (size, gate)
    author = f"big-{token}@outside.test"
    since = time.time() - 2
    world.post(message(author, LIST, f"Too big {token}", f"Large post {token}\n"), pad_to=size)

    bounces, _sizes = world.read(author, token, timeout=420, max_bytes=256 * 1024)
    bounce = bounces[0]
    assert bounce["From"].addresses[0].addr_spec == "noreply@lab.test", bounce["From"]
    assert "too large" in str(bounce["Subject"]), bounce["Subject"]
    assert f"at most {gate} bytes" in bounce.as_string(), bounce.as_string()[:2000]

    reports, report_sizes = world.read(
        "siteowner@outside.test", token, timeout=180, max_bytes=256 * 1024
    )
    assert str(reports[0]["X-Original-From"]) == author, reports[0]["X-Original-From"]
    assert report_sizes[0] < 256 * 1024, "the report carries the whole post"
    wait_idle(host, standin)
    assert world.fetch(MEMBERS[0], token, timeout=0) == []

    lines = mail_log(host, since)
    refused = [f"{i}: {t}" for _a, i, t in lines if any(r in t.lower() for r in REFUSALS)]
    assert refused == [], refused
    gated = [t for _a, i, t in lines if i == "postfix/pipe" and "relay=nolist" in t]
    assert any("status=sent" in t for t in gated), gated
