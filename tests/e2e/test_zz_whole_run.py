"""Checks over the whole run; the file name makes pytest run them last."""

from __future__ import annotations

import time
import uuid
from typing import Any

import testinfra
from conftest import LISTS, queued_messages, wait_for


def test_standin_logged_no_sender_mismatch_over_the_whole_run(
    standin: testinfra.host.Host,
) -> None:
    # One line per refusal (tests/lab/roles/provider_standin/README.md).
    log = standin.run("grep -c 'Sender Mismatch' /var/log/mail.log")
    assert log.stdout.strip() == "0", standin.run("grep 'Sender Mismatch' /var/log/mail.log").stdout


def test_standin_never_refused_for_quota(standin: testinfra.host.Host) -> None:
    log = standin.run("grep -c 'Quota exceeded' /var/log/mail.log")
    assert log.stdout.strip() == "0", standin.run("grep 'Quota exceeded' /var/log/mail.log").stdout


def test_list_server_bounced_nothing(host: testinfra.host.Host) -> None:
    log = host.run("journalctl --merge --no-pager -q -g 'status=bounced'")
    assert log.stdout.strip() == "", log.stdout


def test_standin_refused_nothing_over_the_whole_run(standin: testinfra.host.Host) -> None:
    # Any refusal: Sender Mismatch, quota, unknown recipient, relay, milter.
    log = standin.run("grep -E 'NOQUEUE: (milter-)?reject|milter-reject' /var/log/mail.log")
    assert log.stdout.strip() == "", log.stdout


def queued(host: testinfra.host.Host) -> list[dict[str, Any]]:
    return queued_messages(host)


def outbound(host: testinfra.host.Host) -> list[dict[str, Any]]:
    return [
        m
        for m in queued(host)
        if any(not r["address"].endswith(f"@{LISTS}") for r in m["recipients"])
    ]


def test_list_server_queue_holds_no_list_mail_at_the_end(host: testinfra.host.Host) -> None:
    # Nothing stuck on its way to the provider (pacing: 1 s per recipient).
    try:
        wait_for(lambda: not outbound(host), 60, "the list server's outbound queue empty")
    except BaseException:
        print(host.run("postqueue -p").stdout)
        raise


def test_web_cron_jobs_send_no_mail(host: testinfra.host.Host) -> None:
    # mailman3-web's cron runs every minute as www-data; any output is a mail.
    # Look at the last three minutes only (a reused lab keeps older history).
    since = time.time() - 180
    recent = [
        m
        for m in queued(host)
        if m["arrival_time"] > since
        and any(r["address"].startswith("www-data@") for r in m["recipients"])
    ]
    sent = host.run("journalctl --merge -q --no-pager --since -3min -g 'to=<www-data@'")
    assert recent == [], host.run("postqueue -p").stdout
    assert sent.stdout.strip() == "", sent.stdout


def test_local_mail_is_delivered_not_deferred(host: testinfra.host.Host) -> None:
    # roles/postfix builds /etc/aliases.db (alias_maps ends with hash:/etc/aliases).
    token = uuid.uuid4().hex[:12]
    sent = host.run(f"printf 'Subject: e2e local probe {token}\\n\\nprobe\\n' | sendmail nobody")
    assert sent.rc == 0, sent.stderr
    wait_for(
        lambda: (
            host.run(f"grep -qF {token} /var/mail/nobody").rc == 0
            or any(
                r["address"].startswith("nobody@") and r.get("delay_reason")
                for m in queued(host)
                for r in m["recipients"]
            )
        ),
        30,
        "the local probe delivered (or deferred)",
    )
    stuck = [
        m for m in queued(host) if any(r["address"].startswith("nobody@") for r in m["recipients"])
    ]
    assert stuck == [], host.run("postqueue -p").stdout
    assert host.run(f"grep -qF {token} /var/mail/nobody").rc == 0, host.run(
        "journalctl --merge -q --no-pager --since -2min -g 'to=<nobody@'"
    ).stdout
