"""bench/hops.py: a post's hops from the journal lines the lab's hosts write."""

from __future__ import annotations

import json
from types import ModuleType

import pytest
from helpers import load_script

ID = "1796.42@outside.test"
T0 = 1_796_683_924.0


@pytest.fixture(scope="module")
def hops() -> ModuleType:
    return load_script("hops", "bench")


def entry(at: float, program: str, text: str) -> str:
    stamp = str(round(at * 1e6))
    return json.dumps(
        {"__REALTIME_TIMESTAMP": stamp, "SYSLOG_IDENTIFIER": program, "MESSAGE": text}
    )


# As `journalctl -o json` prints them on the stand-in and on the list server.
PROVIDER = "\n".join(
    [
        entry(
            T0 + 0.2,
            "dovecot",
            f"lda(mailman@lab.test)<4006><6QhF>: msgid=<{ID}>: saved mail to INBOX",
        ),
        entry(
            T0 + 3.9,
            "dovecot",
            f"lmtp(bjorn@outside.test)<3948><EWo>: msgid=<{ID}>: saved mail to INBOX",
        ),
        entry(
            T0 + 3.0,
            "dovecot",
            f"lmtp(alice@outside.test)<3948><sft>: msgid=<{ID}>: saved mail to INBOX",
        ),
        entry(T0 + 3.1, "dovecot", "imap(alice@outside.test)<4001><G2C>: Disconnected: Logged out"),
    ]
)
LISTS = "\n".join(
    [
        entry(T0 + 0.8, "postfix/cleanup", f"A1: message-id=<{ID}>"),
        entry(
            T0 + 0.81,
            "postfix/lmtp",
            "A1: to=<team@lab.test>, relay=127.0.0.1[127.0.0.1]:8024, delay=0.06, "
            "delays=0.05/0/0/0.01, dsn=2.0.0, status=sent (250 Ok)",
        ),
        entry(T0 + 1.1, "postfix/cleanup", f"B2: message-id=<{ID}>"),
        entry(
            T0 + 2.9,
            "postfix/provider/smtp",
            "B2: to=<alice@outside.test>, relay=provider.e2e.lab.test[10.89.0.2]:587, "
            "delay=1.8, delays=0.01/1.7/0.06/0.04, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        ),
        entry(
            T0 + 3.8,
            "postfix/provider/smtp",
            "B2: to=<bjorn@outside.test>, relay=provider.e2e.lab.test[10.89.0.2]:587, "
            "delay=2.7, delays=0.01/2.6/0.06/0.04, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        ),
    ]
)


def test_each_hop_is_the_time_between_two_lines_of_the_posts_way(hops: ModuleType) -> None:
    provider, lists = hops.Host.read(PROVIDER), hops.Host.read(LISTS)
    way = hops.hops(ID, T0, T0 + 3.4, provider, lists, "mailman@lab.test", "alice@outside.test")
    assert way is not None
    assert list(way) == list(hops.HOPS)
    expected = {
        "provider": 0.2,
        "intake": 0.6,
        "to Mailman": 0.01,
        "Mailman": 0.29,
        "queue": 1.7,
        "relay": 0.1,
        "delivery": 0.1,
        "reader": 0.4,
    }
    assert way == pytest.approx(expected, abs=1e-6)
    assert sum(way.values()) == pytest.approx(3.4)


def test_a_post_with_a_missing_line_is_not_followed(hops: ModuleType) -> None:
    provider = hops.Host.read(PROVIDER)
    lists = hops.Host.read("\n".join(LISTS.splitlines()[:2]))
    assert (
        hops.hops(ID, T0, T0 + 4, provider, lists, "mailman@lab.test", "alice@outside.test") is None
    )
