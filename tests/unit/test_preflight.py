"""Bad input stops the run in playbooks/preflight.yml, naming what to fix.

The preflight play only reads (facts, argument specs, asserts), so it runs
here against the test machine itself over a local connection.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT

GOOD: dict[str, Any] = {
    "listserver_fqdn": "lists.example.org",
    "listserver_mail_domain": "example.org",
    "listserver_admin_email": "postmaster@example.net",
    "vault_mailman_db_password": "db p$a's\"s #w%rd \\ x",
    "vault_mailman_web_db_password": "web p$a's\"s #w%rd \\ y",
    "vault_mailman_rest_password": "rest p$a's\"s #w%rd \\ z",
    "vault_mailman_archiver_key": "Kx7_ArchiverKey-0123456789abcdefghijkl",
    "vault_django_secret_key": "dj $a's\"s #w%rd 0123456789abcdefghijklmnopqrstuvwxyz0123",
    "vault_web_admin_password": "adm p$a's\"s #w%rd \\ w",
    "listserver_lists": [
        {"name": "team", "domain": "example.org", "owners": ["alice@example.net"]},
    ],
}


def lists(name: str, owner: str) -> dict[str, Any]:
    return {"listserver_lists": [{"name": name, "domain": "example.org", "owners": [owner]}]}


def run_preflight(tmp_path: Path, overrides: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    inventory = {
        "all": {
            "children": {
                group: {"hosts": {"testhost": None}} for group in ("database", "mailman", "web")
            },
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "/usr/bin/python3",
                **GOOD,
                **overrides,
            },
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, allow_unicode=True))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        ["ansible-playbook", "-i", str(path), str(ROOT / "playbooks/preflight.yml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def test_good_input_passes(tmp_path: Path) -> None:
    result = run_preflight(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"listserver_fqdn": ""}, "mailman_web_site_domain"),
        ({"listserver_fqdn": "Not A Host"}, "mailman_web_site_domain"),
        (lists("Team", "a@b.org"), "mailman_lists_definitions entry 'Team@example.org'"),
        (lists("x-owner", "a@b.org"), "must not end in a"),
        (lists("team", "alice"), "owners must list at least one e-mail address"),
        ({"vault_mailman_rest_password": ""}, "mailman_core_rest_password"),
        ({"vault_mailman_rest_password": "restpass"}, "mailman_core_rest_password"),
        ({"vault_web_admin_password": "short"}, "mailman_web_superuser_password"),
        ({"vault_django_secret_key": "change-this-on-your-production-server"}, "secret_key"),
        ({"vault_mailman_archiver_key": "has%percent-0123456789abcdefghijklmnop"}, "archiver_key"),
        ({"listserver_admin_email": "not-an-address"}, "mailman_core_site_owner"),
    ],
)
def test_bad_input_stops_with_the_variable_named(
    tmp_path: Path, overrides: dict[str, Any], named: str
) -> None:
    result = run_preflight(tmp_path, overrides)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert named in output, output
    for key, value in GOOD.items():
        if key.startswith("vault_"):
            assert value not in output, f"{key} leaked into the output"
