"""The lab's one mail client: SMTP and IMAPS to the provider stand-in.

Standard library only: it runs on this machine (tools/demo.py) and, copied by
``labkit.hosts.install_mail_client``, on lab hosts that have python3 and nothing
else (the e2e outside world, the stand-in scenario's client, bench/mail_latency).

The server comes from ``Server`` or, on a lab host, from the environment:
STANDIN (its name, the one the certificate is checked for), STANDIN_CA,
STANDIN_ADDRESS (where to connect when the name does not resolve, as on this
machine: IMAPS and port 25), HELO.

On a lab host it is also a command: ``python3 labmail.py OP REQUEST`` where
REQUEST is base64 of a JSON object of ``send``'s or ``fetch``'s keyword
arguments (``data`` base64); it prints the answer as one JSON object.
"""

from __future__ import annotations

import base64
import email
import email.policy
import imaplib
import json
import os
import smtplib
import socket
import ssl
import sys
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any


@dataclass(frozen=True)
class Server:
    host: str
    ca: str
    address: str = ""
    helo: str = "client.lab.test"

    @classmethod
    def from_env(cls) -> Server:
        env = os.environ
        return cls(
            env.get("STANDIN", ""),
            env.get("STANDIN_CA", ""),
            env.get("STANDIN_ADDRESS", ""),
            env.get("HELO", "client.lab.test"),
        )

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca or None)


SERVER = Server.from_env()


def text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def message(from_header: str, to: list[str], subject: str, body: str = "probe\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = from_header
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="client.test")
    msg.set_content(body)
    return msg.as_bytes()


def padded(data: bytes, size: int) -> bytes:
    """The message with a random attachment bringing it to about size bytes."""
    msg = email.message_from_bytes(data, policy=email.policy.SMTP)
    raw = os.urandom(max(0, (size - len(data) - 1024) // 78 * 57))
    msg.add_attachment(raw, maintype="application", subtype="octet-stream", filename="big.bin")
    return msg.as_bytes(policy=email.policy.SMTP)


def _smtp(port: int, server: Server) -> smtplib.SMTP:
    """Port 465: implicit TLS; 587: STARTTLS; 25: plain (the only one by address)."""
    if port == 465:
        context = server.context()
        return smtplib.SMTP_SSL(
            server.host, port, local_hostname=server.helo, context=context, timeout=30
        )
    smtp = smtplib.SMTP(server.address or server.host, port, local_hostname=server.helo, timeout=30)
    if port == 587:
        smtp.starttls(context=server.context())
    return smtp


def send(
    envelope_from: str,
    rcpts: list[str],
    data: bytes,
    port: int = 25,
    user: str | None = None,
    password: str | None = None,
    mechanism: str | None = None,
    pad_to: int = 0,
    server: Server = SERVER,
) -> dict[str, Any]:
    """Send one message; what the server said. Never raises on a refusal."""
    if pad_to:
        data = padded(data, pad_to)
    result: dict[str, Any] = {
        "refused": {},
        "error": None,
        "sent_at": time.time(),
        "size": len(data),
    }
    try:
        with _smtp(port, server) as smtp:
            smtp.ehlo(server.helo)
            if user is not None and mechanism is None:
                smtp.login(user, password or "")
            elif user is not None and mechanism is not None:
                smtp.user, smtp.password = user, password or ""
                smtp.auth(mechanism, getattr(smtp, "auth_" + mechanism.lower().replace("-", "_")))
            refused = smtp.sendmail(envelope_from, rcpts, data)
            result["refused"] = {k: [v[0], text(v[1])] for k, v in refused.items()}
    except smtplib.SMTPRecipientsRefused as exc:
        result["refused"] = {k: [v[0], text(v[1])] for k, v in exc.recipients.items()}
    except smtplib.SMTPResponseException as exc:
        result["error"] = [exc.smtp_code, text(exc.smtp_error)]
    except OSError as exc:
        result["error"] = [0, str(exc)]
    return result


class _IMAP(imaplib.IMAP4_SSL):
    """IMAPS to the server's address, its certificate checked for its name."""

    def __init__(self, server: Server) -> None:
        self._address = server.address or server.host
        super().__init__(server.host, 993, ssl_context=server.context(), timeout=30)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def imap(user: str, password: str, server: Server = SERVER) -> imaplib.IMAP4_SSL:
    conn = _IMAP(server)
    conn.login(user, password)
    return conn


def _ok(answer: tuple[str, Any], what: str) -> Any:
    """The data of an OK answer. Anything else raises: unreadable is not empty."""
    status, data = answer
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what}: {status} {data!r}")
    return data


def _matching(conn: imaplib.IMAP4_SSL, needle: bytes) -> list[tuple[bytes, bytes, float]]:
    """(uid, raw message, arrival time) of every message in INBOX containing needle."""
    _ok(conn.select("INBOX"), "SELECT INBOX")
    data = _ok(conn.uid("SEARCH", "ALL"), "UID SEARCH ALL")
    found = []
    for uid in data[0].split() if data and data[0] else []:
        parts = _ok(conn.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])"), f"UID FETCH {uid!r}")
        for part in parts:
            if isinstance(part, tuple) and needle in part[1]:
                date = imaplib.Internaldate2tuple(part[0])
                found.append((uid, part[1], time.mktime(date) if date else 0.0))
    return found


def fetch(
    user: str,
    password: str,
    needle: str = "",
    count: int = 1,
    timeout: float = 60,
    delete: bool = False,
    max_bytes: int = 0,
    server: Server = SERVER,
) -> dict[str, Any]:
    """The messages containing needle, once there are count of them or timeout passed.

    ``error`` is the last IMAP error when the last look failed: a caller must read it
    as "could not read", never as "nothing there". ``messages`` are base64, cut to
    max_bytes if given; ``sizes`` are the full ones.
    """
    start = time.monotonic()
    found: list[tuple[bytes, bytes, float]] = []
    error = None
    while True:
        try:
            with imap(user, password, server) as conn:
                found = _matching(conn, needle.encode())
                if delete and len(found) >= count:
                    for uid, _raw, _at in found:
                        _ok(conn.uid("STORE", uid.decode(), "+FLAGS", r"(\Deleted)"), "UID STORE")
                    _ok(conn.expunge(), "EXPUNGE")
            error = None
        except (OSError, imaplib.IMAP4.error) as exc:
            error = str(exc)
        if len(found) >= count or time.monotonic() - start > timeout:
            break
        time.sleep(0.5)
    return {
        "messages": [base64.b64encode(raw[: max_bytes or None]).decode() for _u, raw, _a in found],
        "sizes": [len(raw) for _uid, raw, _at in found],
        "arrived": [at for _uid, _raw, at in found],
        "waited": time.monotonic() - start,
        "error": error,
    }


def headers(
    user: str, password: str, needle: str, expect: int = 1, timeout: float = 20
) -> list[dict[str, list[str]]]:
    """The headers (lower-case name: values) of the messages containing needle."""
    answer = fetch(user, password, needle, expect, timeout)
    if answer["error"]:
        raise imaplib.IMAP4.error(answer["error"])
    found = []
    for raw in answer["messages"]:
        msg = email.message_from_bytes(base64.b64decode(raw))
        found.append({k.lower(): [str(v) for v in msg.get_all(k, [])] for k in msg})
    return found


def main(argv: list[str]) -> int:
    operation, request = argv[1], json.loads(base64.b64decode(argv[2]))
    if operation == "send":
        request["data"] = base64.b64decode(request["data"])
    handlers = {"send": send, "fetch": fetch}
    print(json.dumps(handlers[operation](**request)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
