"""Mail client of the outside world, run on the outside client container.

Copied to the container by tests/e2e/conftest.py (and bench/mail_latency) and
called as ``python3 labmail.py OP REQUEST`` where REQUEST is base64 of a JSON
object; it prints one JSON object. Standard library only (the container has
python3 and nothing else).

Operations:
- ``send``: ``{"envelope_from", "rcpts", "data" (base64 of the message),
  "pad_to" (optional)}`` to the stand-in's port 25 (the provider's inbound MX).
  With ``pad_to``, the message gets a random attachment that makes it about
  that many bytes (built here: a command line cannot carry megabytes). Prints
  the refused recipients or the error and the size sent; never raises on a
  refusal.
- ``fetch``: ``{"user", "password", "needle" (optional), "count", "timeout",
  "delete" (optional), "max_bytes" (optional)}``: waits until the IMAPS
  mailbox holds at least ``count`` messages whose raw bytes contain
  ``needle``, then prints them (base64, cut to ``max_bytes`` if given) with
  their full sizes, the seconds waited and each message's arrival time.
  ``error`` is the last IMAP error when the last attempt failed: a caller must
  treat it as "could not read", never as "nothing there".
"""

from __future__ import annotations

import base64
import email
import email.policy
import imaplib
import json
import os
import smtplib
import ssl
import sys
import time
from typing import Any

HOST = os.environ.get("STANDIN", "provider.e2e.lab.test")
CA = os.environ.get("STANDIN_CA", "/etc/ssl/lab/standin-ca.pem")


def text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def padded(data: bytes, size: int) -> bytes:
    """The message with a random attachment bringing it to about size bytes."""
    msg = email.message_from_bytes(data, policy=email.policy.SMTP)
    overhead = len(data) + 1024
    raw = os.urandom(max(0, (size - overhead) // 78 * 57))
    msg.add_attachment(raw, maintype="application", subtype="octet-stream", filename="big.bin")
    return msg.as_bytes(policy=email.policy.SMTP)


def send(request: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64decode(request["data"])
    if request.get("pad_to"):
        data = padded(data, int(request["pad_to"]))
    result: dict[str, Any] = {
        "refused": {},
        "error": None,
        "sent_at": time.time(),
        "size": len(data),
    }
    try:
        with smtplib.SMTP(HOST, int(request.get("port", 25)), timeout=30) as smtp:
            smtp.ehlo("outside.e2e.lab.test")
            refused = smtp.sendmail(request["envelope_from"], request["rcpts"], data)
            result["refused"] = {k: [v[0], text(v[1])] for k, v in refused.items()}
    except smtplib.SMTPRecipientsRefused as exc:
        result["refused"] = {k: [v[0], text(v[1])] for k, v in exc.recipients.items()}
    except smtplib.SMTPResponseException as exc:
        result["error"] = [exc.smtp_code, text(exc.smtp_error)]
    except OSError as exc:
        result["error"] = [0, str(exc)]
    return result


def _matching(conn: imaplib.IMAP4_SSL, needle: bytes) -> list[tuple[bytes, bytes, str]]:
    """(uid, raw message, INTERNALDATE) of every message containing needle.

    Any answer but OK raises: an unreadable mailbox is not an empty one.
    """
    status, data = conn.select("INBOX")
    if status != "OK":
        raise imaplib.IMAP4.error(f"SELECT INBOX: {status} {data!r}")
    status, data = conn.uid("SEARCH", "ALL")
    if status != "OK":
        raise imaplib.IMAP4.error(f"UID SEARCH ALL: {status} {data!r}")
    if not data or not data[0]:
        return []
    found = []
    for uid in data[0].split():
        status, parts = conn.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
        if status != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH {uid!r}: {status} {parts!r}")
        for part in parts:
            if isinstance(part, tuple) and needle in part[1]:
                date = imaplib.Internaldate2tuple(part[0])
                stamp = time.mktime(date) if date else 0.0
                found.append((uid, part[1], str(stamp)))
    return found


def fetch(request: dict[str, Any]) -> dict[str, Any]:
    needle = request.get("needle", "").encode()
    wanted = int(request.get("count", 1))
    timeout = float(request.get("timeout", 60))
    context = ssl.create_default_context(cafile=CA)
    start = time.monotonic()
    found: list[tuple[bytes, bytes, str]] = []
    error = None
    while True:
        try:
            with imaplib.IMAP4_SSL(HOST, 993, ssl_context=context, timeout=30) as conn:
                conn.login(request["user"], request["password"])
                found = _matching(conn, needle)
                if len(found) >= wanted and request.get("delete"):
                    for uid, _raw, _date in found:
                        status, data = conn.uid("STORE", uid.decode(), "+FLAGS", r"(\Deleted)")
                        if status != "OK":
                            raise imaplib.IMAP4.error(f"UID STORE {uid!r}: {status} {data!r}")
                    status, data = conn.expunge()
                    if status != "OK":
                        raise imaplib.IMAP4.error(f"EXPUNGE: {status} {data!r}")
            error = None
        except (OSError, imaplib.IMAP4.error) as exc:
            error = str(exc)
        if len(found) >= wanted or time.monotonic() - start > timeout:
            break
        time.sleep(0.5)
    cut = int(request.get("max_bytes") or 0)
    return {
        "messages": [base64.b64encode(raw[:cut] if cut else raw).decode() for _u, raw, _d in found],
        "sizes": [len(raw) for _uid, raw, _date in found],
        "arrived": [float(date) for _uid, _raw, date in found],
        "waited": time.monotonic() - start,
        "error": error,
    }


def main(argv: list[str]) -> int:
    operation, request = argv[1], json.loads(base64.b64decode(argv[2]))
    handlers = {"send": send, "fetch": fetch}
    print(json.dumps(handlers[operation](request)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
