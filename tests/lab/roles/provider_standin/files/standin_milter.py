#!/usr/bin/python3
"""Milter of the lab's mail provider stand-in: Sender Mismatch and the recipient quota.

Attached to the authenticated submission services only. For the logged-in account it:

- refuses (5xx, text ``Sender Mismatch``) a message whose envelope sender or any
  ``From:`` header address is neither the account nor one of its aliases, the way the
  provider does; the aliases are read from the Mail API double's state file;
- counts every accepted recipient per account over a rolling window and refuses the
  recipient that would go over the quota with a temporary 4xx (text ``Quota exceeded``).

Each refusal is logged here (journal of the unit) and by Postfix as ``milter-reject``.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import sys
import threading
import time
from email.utils import getaddresses
from pathlib import Path
from typing import Any, ClassVar

import Milter

LOG = logging.getLogger("standin-milter")


def bare(address: str) -> str:
    """``<Foo@Lab.Test>`` -> ``foo@lab.test``."""
    return address.strip().removeprefix("<").removesuffix(">").strip().lower()


def reply_text(text: str) -> str:
    """libmilter treats ``%`` in a reply as a format character."""
    return text.replace("%", "%%")


class Policy:
    """Allowed senders and the recipient quota, shared by every connection."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.account: str = str(config["account"]).lower()
        self.domain: str = str(config["domain"]).lower()
        self.aliases_file = Path(config["aliases_file"])
        self.quota = int(config["quota_recipients"])
        self.window = float(config["quota_window_seconds"])
        self._lock = threading.Lock()
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._aliases_mtime: float | None = None
        self._aliases: frozenset[str] = frozenset()

    def _load_aliases(self) -> frozenset[str]:
        try:
            mtime = self.aliases_file.stat().st_mtime
            if mtime != self._aliases_mtime:
                document = json.loads(self.aliases_file.read_text())
                names = document.get("aliases", []) if isinstance(document, dict) else document
                self._aliases = frozenset(f"{str(name).lower()}@{self.domain}" for name in names)
                self._aliases_mtime = mtime
        except (OSError, ValueError) as exc:
            LOG.error("cannot read aliases from %s: %s", self.aliases_file, exc)
        return self._aliases

    def allowed_senders(self, login: str) -> frozenset[str]:
        """The account and its aliases for the account's login; nothing for any other login."""
        if login.lower() != self.account:
            return frozenset()
        with self._lock:
            return frozenset({self.account}) | self._load_aliases()

    def used(self, login: str) -> int:
        """Recipients accepted for ``login`` within the window."""
        now = time.monotonic()
        with self._lock:
            sent = self._sent[login.lower()]
            while sent and sent[0] <= now - self.window:
                sent.popleft()
            return len(sent)

    def commit(self, login: str, recipients: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._sent[login.lower()].extend([now] * recipients)


class StandinMilter(Milter.Base):
    policy: ClassVar[Policy]

    def __init__(self) -> None:
        self.login = ""
        self.sender = ""
        self.recipients: list[str] = []
        self.from_values: list[str] = []

    def envfrom(self, mailfrom: str, *params: str) -> int:
        self.login = self.getsymval("{auth_authen}") or ""
        self.sender = bare(mailfrom)
        self.recipients = []
        self.from_values = []
        if not self.login:
            # Postfix itself refuses unauthenticated clients on submission.
            return Milter.CONTINUE
        if self.sender not in self.policy.allowed_senders(self.login):
            LOG.warning(
                "Sender Mismatch: login=%s envelope sender=<%s> refused", self.login, self.sender
            )
            self.setreply(
                "553",
                "5.7.1",
                reply_text(
                    f"Sender Mismatch: envelope sender <{self.sender}> is not {self.login} "
                    "or one of its aliases"
                ),
            )
            return Milter.REJECT
        return Milter.CONTINUE

    def envrcpt(self, to: str, *params: str) -> int:
        if not self.login:
            return Milter.CONTINUE
        used = self.policy.used(self.login)
        if used + len(self.recipients) >= self.policy.quota:
            LOG.warning(
                "Quota exceeded: login=%s recipient=<%s> refused (%d recipients in the last %g s,"
                " quota %d)",
                self.login,
                bare(to),
                used + len(self.recipients),
                self.policy.window,
                self.policy.quota,
            )
            self.setreply(
                "451",
                "4.7.1",
                reply_text(
                    f"Quota exceeded: {self.policy.quota} recipients per "
                    f"{self.policy.window:g} s for {self.login}, try again later"
                ),
            )
            return Milter.TEMPFAIL
        self.recipients.append(bare(to))
        return Milter.CONTINUE

    def header(self, name: str, value: str) -> int:
        if self.login and name.lower() == "from":
            self.from_values.append(value)
        return Milter.CONTINUE

    def eom(self) -> int:
        if not self.login:
            return Milter.ACCEPT
        allowed = self.policy.allowed_senders(self.login)
        addresses = [address.lower() for _, address in getaddresses(self.from_values)]
        if not addresses or any(address not in allowed for address in addresses):
            shown = ", ".join(addresses) or "none"
            LOG.warning("Sender Mismatch: login=%s From: %s refused", self.login, shown)
            self.setreply(
                "550",
                "5.7.1",
                reply_text(
                    f"Sender Mismatch: From: header ({shown}) is not {self.login} "
                    "or one of its aliases"
                ),
            )
            return Milter.REJECT
        self.policy.commit(self.login, len(self.recipients))
        return Milter.ACCEPT

    def abort(self) -> int:
        self.recipients = []
        self.from_values = []
        return Milter.CONTINUE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, required=True, help="the stand-in's JSON settings")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    config = json.loads(args.config.read_text())
    StandinMilter.policy = Policy(config)
    Milter.factory = StandinMilter
    Milter.set_flags(0)
    socket = f"inet:{int(config['milter_port'])}@127.0.0.1"
    LOG.info("standin milter on %s for %s", socket, StandinMilter.policy.account)
    Milter.runmilter("standin", socket, 240)
    return 0


if __name__ == "__main__":
    sys.exit(main())
