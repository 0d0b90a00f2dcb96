"""Shared helpers of the provider stand-in's verify step.

Client-side checks run on the client container as a list server would talk to the
stand-in: Python's smtplib/imaplib with the test CA. Values travel in the environment.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml

SCENARIO = Path(__file__).resolve().parent.parent
STANDIN = "provider.standin.lab.test"
CLIENT = "client.standin.lab.test"

# Prepended to every client snippet.
CLIENT_LIB = r'''
import email, imaplib, json, os, smtplib, ssl, time, uuid
from email.message import EmailMessage
from email.utils import make_msgid

HOST = os.environ["STANDIN"]
CA = os.environ["CA"]


def context():
    return ssl.create_default_context(cafile=CA)


def message(from_header, to, subject):
    msg = EmailMessage()
    msg["From"] = from_header
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="client.test")
    msg.set_content("probe\n")
    return msg.as_bytes()


def send(envelope_from, rcpts, data, port=587, user=None, password=None, mechanism=None):
    """Send one message; return what the server said, never raise on a refusal."""
    result = {"refused": {}, "error": None}
    try:
        if port == 465:
            smtp = smtplib.SMTP_SSL(HOST, port, context=context(), timeout=30)
        else:
            smtp = smtplib.SMTP(HOST, port, timeout=30)
            if port == 587:
                smtp.starttls(context=context())
        smtp.ehlo("client.standin.lab.test")
        if user is not None:
            if mechanism is None:
                smtp.login(user, password)
            else:
                smtp.user, smtp.password = user, password
                smtp.auth(mechanism, getattr(smtp, "auth_" + mechanism.lower().replace("-", "_")))
        refused = smtp.sendmail(envelope_from, rcpts, data)
        result["refused"] = {k: [v[0], v[1].decode()] for k, v in refused.items()}
        smtp.quit()
    except smtplib.SMTPRecipientsRefused as exc:
        result["refused"] = {k: [v[0], v[1].decode()] for k, v in exc.recipients.items()}
    except smtplib.SMTPResponseException as exc:
        result["error"] = [exc.smtp_code, exc.smtp_error.decode(errors="replace")]
    return result


def imap(user, password):
    conn = imaplib.IMAP4_SSL(HOST, 993, ssl_context=context())
    conn.login(user, password)
    return conn


def fetch(user, password, subject, expect=1, timeout=20.0):
    """Headers of the messages with this subject in INBOX, waiting for ``expect`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        conn = imap(user, password)
        conn.select("INBOX", readonly=True)
        _, data = conn.search(None, "HEADER", "Subject", '"' + subject + '"')
        found = []
        for num in data[0].split():
            _, parts = conn.fetch(num, "(BODY.PEEK[HEADER])")
            msg = email.message_from_bytes(parts[0][1])
            found.append({k.lower(): [str(v) for v in msg.get_all(k, [])] for k in msg.keys()})
        conn.logout()
        if len(found) >= expect or time.monotonic() > deadline:
            return found
        time.sleep(0.5)
'''


@pytest.fixture(scope="session")
def lab() -> dict[str, Any]:
    """The inventory values the scenario converged with."""
    return yaml.safe_load((SCENARIO / "group_vars/all/standin.yml").read_text())


@pytest.fixture(scope="session")
def standin() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{STANDIN}")


@pytest.fixture(scope="session")
def client() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{CLIENT}")


@pytest.fixture
def run_client(
    client: testinfra.host.Host, standin: testinfra.host.Host, lab: dict[str, Any]
) -> Callable[..., Any]:
    """Run a snippet on the client; it prints JSON, which is returned.

    On failure the stand-in's mail log and milter journal are printed.
    """

    def run(code: str, **env: str) -> Any:
        env = {"STANDIN": STANDIN, "CA": lab["lab_standin_ca"], **env}
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        script = CLIENT_LIB + code
        result = client.run(f"env {assignments} python3 -c {shlex.quote(script)}")
        if result.rc != 0:
            pytest.fail(f"client snippet failed:\n{result.stderr}\n{standin_logs(standin)}")
        return json.loads(result.stdout)

    return run


def standin_logs(standin: testinfra.host.Host) -> str:
    mail = standin.run("tail -n 30 /var/log/mail.log").stdout
    milter = standin.run("journalctl -u standin-milter --no-pager -n 15").stdout
    return f"--- mail.log\n{mail}\n--- milter\n{milter}"


def count_in_mail_log(standin: testinfra.host.Host, text: str) -> int:
    result = standin.run(f"grep -c {shlex.quote(text)} /var/log/mail.log")
    return int(result.stdout.strip() or 0)
