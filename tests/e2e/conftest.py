"""Shared helpers of the end-to-end tests (molecule/e2e).

Three parties, as in a deployment:
- the outside world: the container ``outside.e2e.lab.test`` sends mail to the
  provider stand-in's port 25 and reads the outside mailboxes over IMAPS
  (``labkit/mail.py``, copied there once per session);
- the provider stand-in ``provider.e2e.lab.test``;
- the list server ``lists.e2e.lab.test`` (the testinfra ``host``).

Values come from the scenario's inventory (molecule/e2e/group_vars); values
that reach a container travel base64-encoded, so no quoting can break them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml
from labkit import hosts as labhosts
from labkit.hosts import install_mail_client, mail_client
from labkit.hosts import run_python as run_python

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent.parent / "molecule" / "e2e"
STANDIN = "provider.e2e.lab.test"
OUTSIDE = "outside.e2e.lab.test"
LISTS = "lists.e2e.lab.test"
# Where labkit/mail.py on the outside client sends and reads.
CLIENT_ENV = {"STANDIN": STANDIN, "STANDIN_CA": "/etc/ssl/lab/standin-ca.pem", "HELO": OUTSIDE}


def load_lab() -> dict[str, Any]:
    """The inventory values the scenario converged with (group_vars/all)."""
    values: dict[str, Any] = {}
    for path in sorted((SCENARIO / "group_vars" / "all").glob("*.yml")):
        values.update(yaml.safe_load(path.read_text()))
    return values


@dataclass
class World:
    """The outside world: senders on port 25 and mailboxes over IMAPS."""

    client: testinfra.host.Host
    outside_password: str

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = mail_client(self.client, operation, request, **CLIENT_ENV)
        return answer

    def send(
        self, msg: EmailMessage, envelope_from: str, rcpts: list[str], pad_to: int = 0
    ) -> dict[str, Any]:
        data = base64.b64encode(msg.as_bytes(policy=policy.SMTP)).decode()
        request = {"envelope_from": envelope_from, "rcpts": rcpts, "data": data, "pad_to": pad_to}
        return self.call("send", request)

    def post(self, msg: EmailMessage, pad_to: int = 0) -> dict[str, Any]:
        """Send as the message's From: to its To:, and insist it was accepted.

        pad_to: make the message about that many bytes (an attachment added
        on the client).
        """
        sender = msg["From"].addresses[0].addr_spec
        rcpts = [a.addr_spec for a in msg["To"].addresses]
        answer = self.send(msg, sender, rcpts, pad_to)
        assert answer["error"] is None, answer
        assert answer["refused"] == {}, answer
        return answer

    def read(
        self,
        mailbox: str,
        needle: str = "",
        count: int = 1,
        timeout: float = 90,
        delete: bool = False,
        max_bytes: int = 0,
    ) -> tuple[list[EmailMessage], list[int]]:
        """(messages, their full sizes) in the mailbox containing needle; waits
        for count of them. Raises when the mailbox could not be read: an IMAP
        error is never "nothing there". max_bytes cuts each message returned
        (headers and the start of the body), not the sizes."""
        answer = self.call(
            "fetch",
            {
                "user": mailbox,
                "password": self.outside_password,
                "needle": needle,
                "count": count,
                "timeout": timeout,
                "delete": delete,
                "max_bytes": max_bytes,
            },
        )
        if answer["error"] is not None:
            raise AssertionError(f"IMAP read of {mailbox} failed: {answer['error']}")
        parser = BytesParser(policy=policy.default)
        messages = [parser.parsebytes(base64.b64decode(m)) for m in answer["messages"]]
        return messages, list(answer["sizes"])

    def fetch(
        self,
        mailbox: str,
        needle: str = "",
        count: int = 1,
        timeout: float = 90,
        delete: bool = False,
    ) -> list[EmailMessage]:
        """Messages in the mailbox containing needle; waits for count of them.

        Raises when the mailbox could not be read (see read)."""
        return self.read(mailbox, needle, count, timeout, delete)[0]

    def expect(
        self, mailbox: str, needle: str, count: int = 1, timeout: float = 90
    ) -> list[EmailMessage]:
        found = self.fetch(mailbox, needle, count, timeout)
        assert len(found) >= count, f"{mailbox}: {len(found)} of {count} messages with {needle}"
        return found


@pytest.fixture(scope="session")
def lab() -> dict[str, Any]:
    return load_lab()


@pytest.fixture(scope="session")
def standin() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{STANDIN}")


@pytest.fixture(scope="session")
def world(lab: dict[str, Any]) -> World:
    client = testinfra.get_host(f"podman://{OUTSIDE}")
    install_mail_client(client)
    return World(client, lab["provider_standin_outside_password"])


@pytest.fixture
def token() -> str:
    """A word that marks one test's mail (ASCII, found in raw bytes)."""
    return "e2e" + uuid.uuid4().hex[:12]


@pytest.fixture
def rest(host: testinfra.host.Host, lab: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """GET (or METHOD with a form BODY) on Mailman's REST API on the list server."""

    def call(path: str, method: str = "", body: str = "") -> dict[str, Any]:
        answer: dict[str, Any] = labhosts.rest(
            host, path, lab["vault_mailman_rest_password"], method, body
        )
        return answer

    return call


_SEARCH = """
import json, os, urllib.request
req = urllib.request.Request("http://127.0.0.1:8000/hyperkitty/search?q=" + os.environ["WORD"],
                             headers={"Host": os.environ["FQDN"]})
body = urllib.request.urlopen(req, timeout=20).read().decode()
print(json.dumps({"found": os.environ["WORD"] in body}))
"""


def archived(host: testinfra.host.Host, word: str, fqdn: str) -> bool:
    """Whether HyperKitty's search on the host finds the word (asked of uwsgi directly)."""
    found: bool = run_python(host, _SEARCH, WORD=word, FQDN=fqdn)["found"]
    return found


LOG_LINE = re.compile(r"^(?P<at>\d+\.\d+) \S+ (?P<ident>[\w/.-]+)\[\d+\]: (?P<text>.*)$")


def mail_log(host: testinfra.host.Host, since: float, *idents: str) -> list[tuple[float, str, str]]:
    """(time, syslog identifier, message) of the host's mail log lines since then."""
    tags = " ".join(f"-t {shlex.quote(i)}" for i in idents)
    result = host.run(
        f"journalctl --merge -q --no-pager -o short-unix --since @{int(since)} {tags}"
    )
    assert result.rc == 0, f"journalctl failed: {result.stderr}"
    out = result.stdout
    found = (LOG_LINE.match(line) for line in out.splitlines())
    return [(float(m["at"]), m["ident"], m["text"]) for m in found if m]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


MAILMAN_QUEUE = "/var/lib/mailman3/queue"
STANDIN_MAILDIR = "/var/vmail/lab.test/mailman/Maildir"


def queued_messages(host: testinfra.host.Host) -> list[dict[str, Any]]:
    """Postfix's queue (postqueue -j); raises when it cannot be read."""
    result = host.run("postqueue -j")
    assert result.rc == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def mail_path_pending(host: testinfra.host.Host, standin: testinfra.host.Host) -> str:
    """What of the mail path is still in flight ("" when nothing): a message in
    Mailman's queues (bad and shunt are where failures rest, not in flight), in
    the list server's Postfix queue for anywhere but the host itself, in the
    stand-in's queue or in the provider mailbox fetchmail empties. Every probe
    that fails to run raises instead of reading as "idle"."""
    pending = host.run(
        f"find {MAILMAN_QUEUE} -mindepth 2 -type f "
        f"-not -path '{MAILMAN_QUEUE}/bad/*' -not -path '{MAILMAN_QUEUE}/shunt/*' -print"
    )
    assert pending.rc == 0, pending.stderr
    if pending.stdout.strip():
        return f"Mailman's queues: {pending.stdout.split()}"
    outbound = [
        m["queue_id"]
        for m in queued_messages(host)
        if any(not r["address"].endswith(f"@{LISTS}") for r in m["recipients"])
    ]
    if outbound:
        return f"the list server's Postfix queue: {outbound}"
    relayed = [m["queue_id"] for m in queued_messages(standin)]
    if relayed:
        return f"the stand-in's Postfix queue: {relayed}"
    mailbox = standin.run(f"find {STANDIN_MAILDIR}/new {STANDIN_MAILDIR}/cur -type f -print")
    assert mailbox.rc == 0, mailbox.stderr
    if mailbox.stdout.strip():
        return f"the provider mailbox: {len(mailbox.stdout.split())} message(s)"
    return ""


def wait_idle(
    host: testinfra.host.Host, standin: testinfra.host.Host, timeout: float = 240
) -> None:
    """Wait until nothing of the mail path is in flight on two looks in a row."""
    seen = ["not looked yet", "not looked yet"]

    def twice() -> bool:
        seen.append(mail_path_pending(host, standin))
        return seen[-1] == "" and seen[-2] == ""

    try:
        wait_for(twice, timeout, "the mail path idle (Mailman, Postfix, stand-in, mailbox)")
    except BaseException:
        print(f"still in flight: {seen[-1]}")
        raise


def set_budget(extra: dict[str, int]) -> None:
    """molecule/e2e/budget.yml: the stand-in's quota, the relay's pacing, monitoring's view.

    Empty extra: back to the scenario's own values.
    """
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    assert inventory, "run through `molecule verify -s e2e` (it provides the inventory)"
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    command = [playbook, "-i", str(Path(inventory).parent), str(SCENARIO / "budget.yml")]
    command += ["--tags", "provider_standin_configure,postfix_configure,monitoring_configure"]
    command += ["-e", json.dumps(extra)] if extra else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
