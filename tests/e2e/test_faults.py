"""Faults on the mail path: nothing lost, nothing duplicated.

Each test restores what it broke, even when it fails.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager

import testinfra
from conftest import (
    LISTS,
    World,
    mail_log,
    mail_path_pending,
    queued_messages,
    run_python,
    wait_for,
    wait_idle,
)
from labkit.hosts import podman
from test_mail_path import LIST, MEMBERS, message


def exactly_once(
    world: World,
    host: testinfra.host.Host,
    standin: testinfra.host.Host,
    needles: list[str],
) -> None:
    """Every member got every needle, once. Counted only once the mail path is
    idle (nothing left in any queue that could still bring a late duplicate),
    and every read raises when the mailbox cannot be read."""
    try:
        for member in MEMBERS:
            for needle in needles:
                world.expect(member, needle, timeout=240)
    except AssertionError:
        print(f"in flight: {mail_path_pending(host, standin)}")
        logs = "/var/log/mailman3/smtp.log /var/log/mailman3/mailman.log"
        print(host.run(f"tail -n 40 {logs}").stdout)
        raise
    # A copy for another member tried while the host was coming back may wait
    # out Postfix's backoff (minutes): retry it now, then wait for the quiet.
    assert host.run("postqueue -f").rc == 0
    wait_idle(host, standin)
    for member in MEMBERS:
        for needle in needles:
            copies = world.fetch(member, needle, timeout=0)
            assert len(copies) == 1, f"{member}: {len(copies)} copies of {needle}"


def waiting_for_the_relay(host: testinfra.host.Host, members: list[str]) -> bool:
    """Every member's copy was tried and deferred (relay down): in the deferred
    queue, so that `postqueue -f` retries it. A copy still in the active queue
    may be tried once the relay is back and deferred only then, for Postfix's
    whole backoff (minutes)."""
    waiting = {
        r["address"]
        for m in queued_messages(host)
        for r in m["recipients"]
        if m.get("queue_name") == "deferred" and r.get("delay_reason")
    }
    return all(member in waiting for member in members)


def list_server_ready(host: testinfra.host.Host) -> bool:
    units = "postgresql mailman3 postfix fetchmail-intake"
    if host.run(f"systemctl is-active --quiet {units}").rc != 0:
        return False
    probe = "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 8024))'"
    return bool(host.run(probe).rc == 0)


@contextmanager
def submission_down(standin: testinfra.host.Host) -> Iterator[None]:
    """The stand-in's submission service (587) is off; port 25 and IMAP stay up."""
    backup = "/etc/postfix/master.cf.e2e-backup"
    assert standin.run(f"cp -p /etc/postfix/master.cf {backup}").rc == 0
    try:
        assert standin.run("postconf -M# submission/inet && postfix reload").rc == 0
        yield
    finally:
        standin.run(f"mv {backup} /etc/postfix/master.cf && postfix reload")


def test_provider_smtp_down_then_back_loses_and_duplicates_nothing(
    world: World, host: testinfra.host.Host, standin: testinfra.host.Host, token: str
) -> None:
    with submission_down(standin):
        world.post(message("alice@outside.test", LIST, f"While down {token}", f"{token}\n"))
        # The post comes in (port 25, IMAP) and waits in the list server's queue.
        wait_for(
            lambda: waiting_for_the_relay(host, MEMBERS),
            120,
            "every member's copy waiting in the list server's queue",
        )
        assert world.fetch(MEMBERS[0], token, timeout=0) == []
    # Back: retry now rather than after Postfix's backoff (minutes).
    assert host.run("postqueue -f").rc == 0
    exactly_once(world, host, standin, [token])


# Puts a post straight into Mailman (its LMTP runner), as Postfix's intake
# would: the only way in while the list server's Postfix is down.
LMTP_POST = """
import base64, json, os, smtplib
with smtplib.LMTP("127.0.0.1", 8024) as lmtp:
    message = base64.b64decode(os.environ["MSG"])
    print(json.dumps(lmtp.sendmail(os.environ["FROM"], [os.environ["TO"]], message)))
"""


def test_local_postfix_down_while_mailman_hands_over_a_post_delays_it_a_minute_at_most(
    world: World, host: testinfra.host.Host, standin: testinfra.host.Host, token: str
) -> None:
    """Mailman parks a post the MTA did not take in its retry queue, which by
    Mailman's default it looks at every 15 minutes; the role makes that a
    minute, and orders Mailman after Postfix so that a reboot or an upgrade
    rarely parks a post at all."""
    sender = "alice@outside.test"
    msg = message(sender, LIST, f"Postfix down {token}", f"{token}\n")
    retry = "/var/lib/mailman3/queue/retry"
    assert host.run("systemctl stop postfix").rc == 0
    try:
        data = base64.b64encode(msg.as_bytes()).decode()
        assert run_python(host, LMTP_POST, FROM=sender, TO=LIST, MSG=data) == {}
        wait_for(lambda: host.run(f"ls {retry}").stdout.strip(), 120, "the post parked for retry")
    finally:
        assert host.run("systemctl start postfix").rc == 0
    for member in MEMBERS:
        world.expect(member, token, timeout=150)
    wait_idle(host, standin)


@contextmanager
def imap_down(standin: testinfra.host.Host) -> Iterator[None]:
    """The stand-in's IMAP is off; delivery into the mailbox (LDA, LMTP) stays up."""
    conf = "/etc/dovecot/dovecot.conf"
    backup = "/etc/dovecot/dovecot.conf.e2e-backup"
    assert standin.run(f"cp -p {conf} {backup}").rc == 0
    try:
        off = standin.run(
            f"sed -i 's/^protocols = imap lmtp$/protocols = lmtp/' {conf} && doveadm reload"
        )
        assert off.rc == 0, off.stderr
        wait_for(lambda: not standin.socket("tcp://0.0.0.0:993").is_listening, 30, "IMAP off")
        yield
    finally:
        standin.run(f"mv {backup} {conf} && doveadm reload")


def test_provider_imap_down_mail_waits_in_the_mailbox_and_is_fetched_after(
    world: World, host: testinfra.host.Host, standin: testinfra.host.Host, token: str
) -> None:
    maildir = "/var/vmail/lab.test/mailman/Maildir"
    with imap_down(standin):
        world.post(message("alice@outside.test", LIST, f"IMAP down {token}", f"{token}\n"))
        wait_for(
            lambda: standin.run(f"grep -rlF {token} {maildir}/new {maildir}/cur").rc == 0,
            60,
            "the post waiting in the provider mailbox",
        )
    exactly_once(world, host, standin, [token])


def test_list_server_reboot_mid_traffic_loses_and_duplicates_nothing(
    world: World, host: testinfra.host.Host, standin: testinfra.host.Host, token: str
) -> None:
    needles = [f"{token}n{n}" for n in range(3)]
    ids = []
    since = time.time() - 5
    for needle in needles:
        msg = message("alice@outside.test", LIST, f"Reboot {needle}", f"{needle}\n")
        ids.append(str(msg["Message-ID"]))
        world.post(msg)
    # Mid-traffic means the list server already has the first post: wait for it
    # in the list server's mail log (cleanup names each Message-ID it queues)
    # instead of guessing with a sleep.
    wait_for(
        lambda: any(ids[0] in text for _at, _i, text in mail_log(host, since, "postfix/cleanup")),
        120,
        f"the first post {ids[0]} on the list server",
    )
    podman("restart", "--time", "90", LISTS)
    wait_for(lambda: list_server_ready(host), 180, "the list server back after the reboot")
    # A delivery tried while Mailman was still starting is deferred for
    # Postfix's backoff (minutes): retry now, as after the relay test.
    assert host.run("postqueue -f").rc == 0
    exactly_once(world, host, standin, needles)


def test_list_server_killed_with_a_post_in_its_queue_loses_and_duplicates_nothing(
    world: World, host: testinfra.host.Host, standin: testinfra.host.Host, token: str
) -> None:
    """SIGKILL of the whole list-server container (no shutdown of any service)
    while the post is known to be in its Postfix queue, then a cold start."""
    with submission_down(standin):
        world.post(message("alice@outside.test", LIST, f"Killed {token}", f"{token}\n"))
        wait_for(
            lambda: waiting_for_the_relay(host, MEMBERS),
            120,
            "every member's copy waiting in the list server's queue",
        )
        assert world.fetch(MEMBERS[0], token, timeout=0) == []
        podman("kill", "--signal", "KILL", LISTS)
        podman("start", LISTS)
        wait_for(lambda: list_server_ready(host), 180, "the list server back after SIGKILL")
        # Still queued after the kill: nothing lost with the container's memory.
        assert waiting_for_the_relay(host, MEMBERS), host.run("postqueue -p").stdout
    assert host.run("postqueue -f").rc == 0
    exactly_once(world, host, standin, [token])
