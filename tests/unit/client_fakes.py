"""tools/client.py run with Terraform and ansible-playbook replaced by stand-ins that log
how they were called (tests/unit/test_client_tool.py; with the lab's OpenStack answering
the preflight: molecule/openstack/tests/test_client_deploy.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "client.py"
INVENTORY = "all:\n  children:\n    listserver: {}\n"

# Logs argv and TF_DATA_DIR; `console` evaluates nothing but returns the values
# Terraform would for clients/example (image overridable), `output` an inventory.
FAKE_TERRAFORM = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "data": os.environ.get("TF_DATA_DIR")}}) + "\\n")
args = sys.argv[2:]
if args[0] == "console":
    values = {{"flavor": "a1-ram2-disk20-perf1", "network": "ext-net1", "key_name": None,
              "image": os.environ.get("FAKE_IMAGE", "Debian 13 trixie"), "volume_size": 20}}
    print(json.dumps(json.dumps(values)))
elif args[0] == "output" and args[1] == "-json":
    outputs = {{"ipv4": {{"value": "203.0.113.10"}}, "ipv6": {{"value": "2001:db8::10"}}}}
    outputs["backup_swift_application_credential_secret"] = {{
        "sensitive": True, "value": os.environ.get("FAKE_BACKUP_SECRET")}}
    print(json.dumps(outputs))
elif args[0] == "output":
    sys.stdout.write({INVENTORY!r})
"""
FAKE_PLAYBOOK = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps({{"argv": ["ansible-playbook", *sys.argv[1:]]}}) + "\\n")
"""


def fake_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """clients/example copied, with a vault, and the stand-ins on PATH."""
    directory = tmp_path / "clients" / "acme"
    shutil.copytree(ROOT / "clients" / "example", directory)
    vault = directory / "inventory" / "group_vars" / "all" / "vault.yml"
    vault.write_text("$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("terraform", FAKE_TERRAFORM), ("ansible-playbook", FAKE_PLAYBOOK)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TF", str(bin_dir / "terraform"))
    monkeypatch.setenv("CALLS", str(tmp_path / "calls.jsonl"))
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD", raising=False)
    monkeypatch.delenv("FAKE_BACKUP_SECRET", raising=False)
    return directory


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def calls() -> list[dict[str, Any]]:
    path = Path(os.environ["CALLS"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def terraform_commands() -> list[str]:
    return [c["argv"][1] for c in calls() if c["argv"][0] != "ansible-playbook"]
