"""Where a post's time goes: its hops from the journals of the stand-in and the list server.

The lab's containers share the machine's clock, and the journal stamps each
line to the microsecond, so one post's way can be followed by its Message-ID
(which Mailman keeps): on the list server through Postfix's cleanup, lmtp and
smtp lines, on the stand-in through Dovecot's "saved mail" lines.

  provider   the stand-in takes the post on port 25 and stores it in the
             mailbox the list server fetches from (sent -> Dovecot saved it);
  intake     fetchmail (IMAP IDLE) fetches it and hands it to the list
             server's Postfix (-> the list server's cleanup);
  to Mailman that Postfix delivers it to Mailman's LMTP (-> lmtp sent);
  Mailman    Mailman's runners, incoming, pipeline and out, until the copy is
             handed back to Postfix (-> the copy's cleanup);
  queue      the copy waits in Postfix's queue for its turn: the quota's
             pacing, one recipient at a time (-> smtp sent, less relay);
  relay      the connection to the provider's submission and the transfer
             (Postfix's delays c + d);
  delivery   the stand-in takes the copy and Dovecot stores it for the member;
  reader     until the reader sees it over IMAP (polled every half second).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

HOPS = ("provider", "intake", "to Mailman", "Mailman", "queue", "relay", "delivery", "reader")

# journalctl -o json lines of Postfix (list server) and Dovecot (stand-in).
JOURNAL = (
    "journalctl -o json --no-pager -q --since=@{since} "
    "SYSLOG_IDENTIFIER=postfix/cleanup SYSLOG_IDENTIFIER=postfix/lmtp "
    "SYSLOG_IDENTIFIER=postfix/provider/smtp SYSLOG_IDENTIFIER=postfix/smtp "
    "SYSLOG_IDENTIFIER=dovecot"
)
SAVED = re.compile(r"^(?:lda|lmtp)\(([^)]+)\)<[^:]*>: msgid=<([^>]+)>: saved mail to")
CLEANUP = re.compile(r"^([0-9A-F]+): message-id=<([^>]+)>")
SENT = re.compile(
    r"^([0-9A-F]+): to=<([^>]+)>.* delays=([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+),.* status=sent"
)


@dataclass
class Line:
    at: float
    program: str
    text: str


def parse(journal: str) -> list[Line]:
    lines = []
    for raw in journal.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        text = entry.get("MESSAGE")
        if isinstance(text, str):
            at = int(entry["__REALTIME_TIMESTAMP"]) / 1e6
            lines.append(Line(at, str(entry.get("SYSLOG_IDENTIFIER", "")), text))
    return lines


@dataclass
class Host:
    """One host's queue entries by Message-ID, with their sent lines."""

    by_id: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    sent: dict[str, list[tuple[float, str, list[float]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Message-ID -> (time, mailbox) of each copy Dovecot stored.
    saved: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def read(cls, journal: str) -> Host:
        host = cls()
        for line in parse(journal):
            if line.program == "postfix/cleanup" and (m := CLEANUP.match(line.text)):
                host.by_id[m[2]].append((line.at, m[1]))
            elif line.program == "dovecot" and (m := SAVED.match(line.text)):
                host.saved[m[2]].append((line.at, m[1]))
            elif m := SENT.match(line.text):
                delays = [float(m[n]) for n in range(3, 7)]
                host.sent[m[1]].append((line.at, m[2], delays))
        return host

    def queued(self, message_id: str) -> list[tuple[float, str]]:
        """(time, queue id) of each time the message entered the queue, in order."""
        return sorted(self.by_id.get(message_id, []))

    def saved_for(self, message_id: str, mailbox: str) -> float | None:
        found = [at for at, user in self.saved.get(message_id, []) if user == mailbox]
        return min(found) if found else None

    def sent_to(self, queue_id: str, recipient: str = "") -> tuple[float, list[float]] | None:
        """When the queue entry was delivered to the recipient (any, when not given)."""
        for at, to, delays in sorted(self.sent.get(queue_id, [])):
            if not recipient or to == recipient:
                return at, delays
        return None


def hops(
    message_id: str,
    sent_at: float,
    seen_at: float,
    provider: Host,
    lists: Host,
    mailbox: str,
    member: str,
) -> dict[str, float] | None:
    """The post's seconds per hop; None when a line of its way is missing."""
    stored = provider.saved_for(message_id, mailbox)
    delivered = provider.saved_for(message_id, member)
    queued = lists.queued(message_id)
    if stored is None or delivered is None or len(queued) < 2:
        return None
    (intake_at, intake_id), (copy_at, copy_id) = queued[:2]
    to_mailman = lists.sent_to(intake_id)
    relayed = lists.sent_to(copy_id, member)
    if to_mailman is None or relayed is None:
        return None
    relay = sum(relayed[1][2:])
    return {
        "provider": stored - sent_at,
        "intake": intake_at - stored,
        "to Mailman": to_mailman[0] - intake_at,
        "Mailman": copy_at - to_mailman[0],
        "queue": relayed[0] - copy_at - relay,
        "relay": relay,
        "delivery": delivered - relayed[0],
        "reader": seen_at - delivered,
    }


def summary(samples: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """p50 and mean of each hop over the posts followed end to end."""
    return {
        hop: {
            "p50_s": round(statistics.median(s[hop] for s in samples), 3),
            "mean_s": round(statistics.fmean(s[hop] for s in samples), 3),
        }
        for hop in HOPS
    }
