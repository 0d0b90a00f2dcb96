"""The roles share variable names with the most used community roles (CONTRIBUTING.md).

One inventory holds the list server and hosts configured by geerlingguy.nginx,
.postgresql and .postfix, whose variables are set for their own group: the list
server's roles receive their own values and its preflight passes. Set for every
host instead, a value of another shape stops the preflight, naming the variable.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml
from helpers import ROOT
from test_preflight import GOOD

HOST = "lists"
# What a consultant gives geerlingguy's roles for the other hosts (their documented shapes).
COMMUNITY: dict[str, Any] = {
    "postgresql_databases": [{"name": "exampledb", "lc_collate": "en_US.UTF-8"}],
    "postgresql_hba_entries": [
        {
            "type": "host",
            "database": "all",
            "user": "all",
            "address": "10.0.0.0/8",
            "auth_method": "md5",
        }
    ],
    "nginx_vhosts": [{"listen": "80", "server_name": "www.example.com", "root": "/var/www"}],
    "nginx_client_max_body_size": "64m",
    "postfix_myhostname": "web1.example.com",
    "postfix_mynetworks": "127.0.0.0/8 10.0.0.0/8",
}
SHARED = sorted(set(COMMUNITY) - {"nginx_vhosts"})
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}


def inventory(tmp_path: Path, *, community_for_all: bool) -> Path:
    """The list server (groups database, mailman, web) and web1 in the community roles' group."""
    ours = {group: {"hosts": {HOST: None}} for group in ("database", "mailman", "web")}
    webfarm: dict[str, Any] = {"hosts": {"web1": None}}
    everyone = {**LOCAL, **GOOD}
    if community_for_all:
        everyone.update(COMMUNITY)
    else:
        webfarm["vars"] = COMMUNITY
    data = {
        "all": {
            "vars": everyone,
            "children": {"listserver": {"children": ours}, "webfarm": webfarm},
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def ansible(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
    }
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=False)


def received(path: Path, host: str) -> dict[str, Any]:
    names = json.dumps({"view_names": SHARED})
    run = ansible(
        "ansible-playbook",
        "-i",
        str(path),
        "--limit",
        host,
        "-e",
        names,
        "tests/unit/role-values.yml",
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    result: dict[str, Any] = json.loads(run.stdout)["plays"][0]["tasks"][-1]["hosts"][host][
        "role_values"
    ]
    return result


def test_community_values_for_their_own_group_leave_the_list_server_alone(tmp_path: Path) -> None:
    path = inventory(tmp_path, community_for_all=False)
    ours = received(path, HOST)
    assert [db["name"] for db in ours["postgresql_databases"]] == ["mailman", "mailmanweb"]
    assert ours["postgresql_hba_entries"] == []
    assert ours["nginx_client_max_body_size"] == "10m"
    assert ours["postfix_myhostname"] == GOOD["listserver_fqdn"]
    assert ours["postfix_mynetworks"] != COMMUNITY["postfix_mynetworks"]
    # The other hosts keep what the community roles expect.
    listed = ansible("ansible-inventory", "-i", str(path), "--host", "web1")
    assert listed.returncode == 0, listed.stderr
    theirs = json.loads(listed.stdout)
    assert {name: theirs[name] for name in SHARED} == {name: COMMUNITY[name] for name in SHARED}
    preflight = ansible(
        "ansible-playbook", "-i", str(path), "--limit", HOST, "playbooks/preflight.yml"
    )
    assert preflight.returncode == 0, preflight.stdout[-3000:] + preflight.stderr


def test_community_values_for_every_host_stop_the_preflight_naming_the_variable(
    tmp_path: Path,
) -> None:
    path = inventory(tmp_path, community_for_all=True)
    preflight = ansible(
        "ansible-playbook", "-i", str(path), "--limit", HOST, "playbooks/preflight.yml"
    )
    output = preflight.stdout + preflight.stderr
    assert preflight.returncode != 0, output[-3000:]
    assert "postgresql_databases" in output, output[-3000:]
