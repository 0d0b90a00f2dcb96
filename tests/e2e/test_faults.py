"""Faults on the mail path: nothing lost, nothing duplicated.

Each test restores what it broke, even when it fails.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import testinfra
from conftest import LISTS, World, wait_for
from test_mail_path import LIST, MEMBERS, message


def exactly_once(world: World, needles: list[str], settle: float = 10) -> None:
    """Every member got every needle, once (after a pause for late duplicates)."""
    for member in MEMBERS:
        for needle in needles:
            world.expect(member, needle, timeout=240)
    time.sleep(settle)
    for member in MEMBERS:
        for needle in needles:
            copies = world.fetch(member, needle, timeout=0)
            assert len(copies) == 1, f"{member}: {len(copies)} copies of {needle}"


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
            lambda: host.run("postqueue -j | grep -c provider").stdout.strip() not in ("", "0"),
            120,
            "the post deferred in the list server's queue",
        )
        time.sleep(5)
        assert world.fetch(MEMBERS[0], token, timeout=0) == []
    # Back: retry now rather than after Postfix's backoff (minutes).
    assert host.run("postqueue -f").rc == 0
    exactly_once(world, [token])


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
    world: World, standin: testinfra.host.Host, token: str
) -> None:
    maildir = "/var/vmail/lab.test/mailman/Maildir"
    with imap_down(standin):
        world.post(message("alice@outside.test", LIST, f"IMAP down {token}", f"{token}\n"))
        wait_for(
            lambda: standin.run(f"grep -rlF {token} {maildir}/new {maildir}/cur").rc == 0,
            60,
            "the post waiting in the provider mailbox",
        )
    exactly_once(world, [token])


def test_list_server_reboot_mid_traffic_loses_and_duplicates_nothing(
    world: World, host: testinfra.host.Host, token: str
) -> None:
    needles = [f"{token}n{n}" for n in range(3)]
    for needle in needles:
        world.post(message("alice@outside.test", LIST, f"Reboot {needle}", f"{needle}\n"))
    time.sleep(2)
    subprocess.run(
        ["podman", "restart", "--time", "90", LISTS],
        check=True,
        env=os.environ,
        capture_output=True,
    )
    wait_for(lambda: list_server_ready(host), 180, "the list server back after the reboot")
    exactly_once(world, needles)
