"""The guide-built server, before any adoption: built as the guide builds it, filled
as the issue describes, and carrying a member's post to the other members."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path

import pytest
import testinfra
from labkit.hosts import install_mail_client, mail_client, rest
from labkit.mail import message

SCENARIO = Path(__file__).resolve().parents[1]
GUIDE = "guide.adopt.lab.test"
STANDIN = "provider.adopt.lab.test"
CORE_DB = "/var/lib/mailman3/data/mailman.db"
WEB_DB = "/var/lib/mailman3/web/mailman3web.db"
# labkit/mail.py on the guide host, which trusts the stand-in's CA system-wide.
CLIENT_ENV = {"STANDIN": STANDIN, "STANDIN_CA": "", "HELO": "outside.adopt.lab.test"}


@pytest.fixture(scope="module")
def guide() -> testinfra.host.Host:
    host = testinfra.get_host(f"podman://{GUIDE}")
    install_mail_client(host)
    return host


def sql(host: testinfra.host.Host, database: str, query: str) -> str:
    result = host.run("sqlite3 %s %s", database, query)
    assert result.rc == 0, result.stderr
    return str(result.stdout).strip()


def test_debian_11s_mailman_suite_on_sqlite(guide: testinfra.host.Host) -> None:
    assert guide.package("mailman3").version.startswith("3.3.3")
    assert guide.package("python3-django").version.startswith("2:2.2")
    assert guide.file(CORE_DB).user == "list"
    assert guide.file(WEB_DB).user == "www-data"
    assert not guide.package("postgresql").is_installed


def test_the_web_ui_answers_at_mailman3_over_plain_http(guide: testinfra.host.Host) -> None:
    status = guide.check_output(
        "python3 -c %s",
        "import urllib.request; print(urllib.request.urlopen('http://localhost/mailman3/').status)",
    )
    assert status == "200"


def test_the_relays_credentials_are_left_readable_by_everyone(guide: testinfra.host.Host) -> None:
    # What the guide leaves, and an adoption must not carry over.
    assert guide.file("/etc/postfix/sasl_passwd").mode == 0o644


def test_lists_members_and_requests_are_there(guide: testinfra.host.Host) -> None:
    password = guide.check_output("sed -n 's/^admin_pass: *//p' /etc/mailman3/mailman.cfg")

    def total(path: str) -> int:
        answer = rest(guide, path, password)
        assert answer["status"] == 200, (path, answer)
        return int(answer["body"]["total_size"])

    assert [x["list_name"] for x in rest(guide, "/lists", password)["body"]["entries"]] == [
        "announce",
        "team",
    ]
    assert total("/lists/team.lab.test/roster/member") == 250
    assert total("/lists/announce.lab.test/roster/member") == 250
    assert total("/lists/team.lab.test/held") == 1
    assert total("/lists/announce.lab.test/requests") == 1


def test_archives_users_and_votes_are_there(guide: testinfra.host.Host) -> None:
    # The imported posts (a verify run adds its probe to the archive).
    posts = "SELECT COUNT(*) FROM hyperkitty_email WHERE message_id GLOB '*-[0-9][0-9][0-9]@*'"
    assert int(sql(guide, WEB_DB, posts)) == 200
    threads = "SELECT COUNT(DISTINCT thread_id) FROM hyperkitty_email WHERE message_id GLOB"
    assert int(sql(guide, WEB_DB, threads + " '*-[0-9][0-9][0-9]@*'")) == 80
    assert int(sql(guide, WEB_DB, "SELECT COUNT(*) FROM hyperkitty_attachment")) == 40
    assert int(sql(guide, WEB_DB, "SELECT COUNT(*) FROM hyperkitty_vote")) == 40
    users = sql(guide, WEB_DB, "SELECT username FROM auth_user ORDER BY username")
    assert users.split() == ["admin", "alice", "bob"]


def test_a_post_from_a_sender_without_dmarc_is_refused_by_the_provider(
    guide: testinfra.host.Host,
) -> None:
    # The guide sets "replace From: with the list address" but not "unconditionally":
    # Mailman keeps the member's From: when the member's domain publishes no DMARC
    # policy, and the provider refuses it (Sender Mismatch). The whole path up to the
    # provider works: intake, Mailman, the relay with SASL; the adoption's dry run
    # names the setting that fixes it.
    since = guide.check_output("date %s", "+%Y-%m-%d %H:%M:%S")
    subject = f"guide probe {uuid.uuid4().hex[:8]}"
    data = message("Member Two <m002@outside.test>", ["team@lab.test"], subject)
    request = {
        "envelope_from": "m002@outside.test",
        "rcpts": ["team@lab.test"],
        "data": base64.b64encode(data).decode(),
    }
    sent = mail_client(guide, "send", request, **CLIENT_ENV)
    assert sent["error"] is None, sent
    assert not sent["refused"], sent
    refused = "Sender Mismatch: From: header (m002@outside.test)"
    deadline = time.monotonic() + 240
    count = 0
    while time.monotonic() < deadline and count < 250:
        log = guide.run("journalctl --no-pager -t postfix/smtp --since %s", since).stdout
        count = str(log).count(refused)
        time.sleep(5)
    # Every member, the sender too (Mailman's default: members receive their own posts).
    assert count == 250, f"{count} of 250 refusals logged"
