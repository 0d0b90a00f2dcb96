"""Lab hosts seen from this machine: podman, bringing hosts up and down, commands on them.

Hosts come up only through tests/lab/create.yml (Molecule's base config uses it for every
scenario; ``up`` runs it for the benchmarks). Commands on a host go through a testinfra
host's ``run``; values travel in the environment, so no quoting can break them.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

LAB = Path(__file__).resolve().parents[1]
ROOT = LAB.parents[1]
MAIL_CLIENT = "/usr/local/lib/lab/labmail.py"
# Mailman core's REST API on a list server (mailman_core_rest_port).
REST_URL = "http://127.0.0.1:8001/3.1"


class LabError(Exception):
    """A lab step failed; the message says which and why."""


def podman(*args: str, check: bool = True, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["podman", *args], input=stdin, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise LabError(f"podman {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def exists(name: str) -> bool:
    return subprocess.run(["podman", "container", "exists", name], check=False).returncode == 0


def running(name: str) -> bool:
    state = podman("container", "inspect", "--format", "{{.State.Running}}", name, check=False)
    return state.strip() == "true"


def address(name: str) -> str:
    """The host's first address on its networks ("" when it is not running)."""
    found = podman(
        "container",
        "inspect",
        "--format",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
        name,
        check=False,
    ).split()
    return found[0] if found else ""


def _playbook(name: str, hosts: list[dict[str, Any]], network: str, **extra: Any) -> None:
    variables = {"lab_hosts": hosts, "lab_network": network, **extra}
    # Controller-only plays with async tasks: Ansible's own strategy (strategy_plugins/).
    env = dict(os.environ, ANSIBLE_STRATEGY="linear", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    argv = ["ansible-playbook", str(LAB / name), "-e", json.dumps(variables)]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise LabError(f"{name} failed for {[h['name'] for h in hosts]}:\n{tail}{result.stderr}")


def up(
    hosts: list[dict[str, Any]], network: str, *, recreate: bool = False, ipv6: bool = False
) -> None:
    """Bring hosts up, booted, the way every Molecule scenario does (tests/lab/create.yml).
    ipv6: the network is dual-stack (as the scenario that made it declared)."""
    _playbook("create.yml", hosts, network, lab_recreate=recreate, lab_network_ipv6=ipv6)


def down(hosts: list[dict[str, Any]], network: str) -> None:
    _playbook("destroy.yml", hosts, network)


class Runs(Protocol):
    def run(self, command: str, *args: str) -> Any: ...


def run_python(host: Runs, code: str, **env: str) -> Any:
    """Run a Python snippet on the host; it prints JSON, which is returned."""
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    result = host.run(f"env {assignments} python3 -c {shlex.quote(code)}")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def install_mail_client(host: Runs) -> None:
    """Put labkit/mail.py on the host as MAIL_CLIENT (idempotent)."""
    code = base64.b64encode((LAB / "labkit" / "mail.py").read_bytes()).decode()
    directory = shlex.quote(str(Path(MAIL_CLIENT).parent))
    result = host.run(f"mkdir -p {directory} && echo {code} | base64 -d > {MAIL_CLIENT}")
    assert result.rc == 0, result.stderr


def mail_client(host: Runs, operation: str, request: Mapping[str, Any], **env: str) -> Any:
    """``send`` or ``fetch`` of labkit/mail.py on the host (installed first)."""
    payload = base64.b64encode(json.dumps(request).encode()).decode()
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    result = host.run(f"env {assignments} python3 {MAIL_CLIENT} {operation} {payload}")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


_REST = """
import base64, json, os, urllib.error, urllib.request
body = os.environ.get("BODY")
req = urllib.request.Request(os.environ["URL"] + os.environ["P"],
                             data=body.encode() if body else None,
                             method=os.environ.get("METHOD") or None)
if os.environ.get("PW"):
    token = base64.b64encode(("restadmin:" + os.environ["PW"]).encode()).decode()
    req.add_header("Authorization", "Basic " + token)
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        raw = r.read()
        print(json.dumps({"status": r.status, "body": json.loads(raw) if raw else None}))
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code, "body": None}))
"""


def rest(host: Runs, path: str, password: str = "", method: str = "", body: str = "") -> Any:
    """{"status", "body"} of Mailman's REST API on the list server (a form body)."""
    return run_python(host, _REST, URL=REST_URL, P=path, PW=password, METHOD=method, BODY=body)
