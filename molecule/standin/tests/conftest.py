"""Shared helpers of the provider stand-in's verify step.

Client-side checks run on the client container as a list server would talk to the
stand-in: labkit's mail client with the test CA. Values travel in the environment.
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
from labkit.hosts import MAIL_CLIENT, install_mail_client

SCENARIO = Path(__file__).resolve().parent.parent
STANDIN = "provider.standin.lab.test"
CLIENT = "client.standin.lab.test"

# Prepended to every client snippet: labkit's mail client, with submission (587) as the
# default port and reads by subject, as a list server talks to the stand-in.
CLIENT_LIB = (
    f"import sys\nsys.path.insert(0, {str(Path(MAIL_CLIENT).parent)!r})\n"
    + """
import email, imaplib, json, os, smtplib, ssl, time, uuid
import labmail
from labmail import imap, message
HOST = labmail.SERVER.host
context = labmail.SERVER.context
def send(*args, port=587, **kwargs):
    answer = labmail.send(*args, port=port, **kwargs)
    return {"refused": answer["refused"], "error": answer["error"]}
def fetch(user, password, subject, expect=1, timeout=20.0):
    return labmail.headers(user, password, subject, expect, timeout)
"""
)


@pytest.fixture(scope="session")
def lab() -> dict[str, Any]:
    """The inventory values the scenario converged with."""
    return yaml.safe_load((SCENARIO / "group_vars/all/standin.yml").read_text())


@pytest.fixture(scope="session")
def standin() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{STANDIN}")


@pytest.fixture(scope="session")
def client() -> testinfra.host.Host:
    host = testinfra.get_host(f"podman://{CLIENT}")
    install_mail_client(host)
    return host


@pytest.fixture
def run_client(
    client: testinfra.host.Host, standin: testinfra.host.Host, lab: dict[str, Any]
) -> Callable[..., Any]:
    """Run a snippet on the client; it prints JSON, which is returned.

    On failure the stand-in's mail log and milter journal are printed.
    """

    def run(code: str, **env: str) -> Any:
        env = {"STANDIN": STANDIN, "STANDIN_CA": lab["lab_standin_ca"], "HELO": CLIENT, **env}
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
