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


def sized(max_kb: int | str) -> dict[str, Any]:
    """One list with max_message_size (KB) set."""
    team = {"name": "team", "domain": "example.org", "owners": ["alice@example.net"]}
    team["settings"] = {"max_message_size": max_kb}
    return {"listserver_lists": [team]}


def run_preflight(
    tmp_path: Path, overrides: dict[str, Any], group_vars: str = "", parent: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the preflight; group_vars: raw YAML (tags such as !unsafe), read after the inventory;
    parent: a group the host's groups are children of (as listserver in a real inventory)."""
    groups = {group: {"hosts": {"testhost": None}} for group in ("database", "mailman", "web")}
    inventory = {
        "all": {
            "children": {parent: {"children": groups}} if parent else groups,
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
    if group_vars:
        (tmp_path / "group_vars").mkdir()
        (tmp_path / "group_vars" / "all.yml").write_text(group_vars)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        ["ansible-playbook", "-i", str(path), str(ROOT / "playbooks/preflight.yml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def test_members_written_with_a_display_name_pass(tmp_path: Path) -> None:
    team = {"name": "team", "domain": "example.org", "owners": ["alice@example.net"]}
    team["members"] = ["Dan Écrivain <dan@example.net>", {"address": "eve@example.net"}]
    result = run_preflight(tmp_path, {"listserver_lists": [team]})
    assert result.returncode == 0, result.stdout + result.stderr


def test_good_input_passes(tmp_path: Path) -> None:
    result = run_preflight(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr


def test_list_max_message_size_within_the_intake_passes(tmp_path: Path) -> None:
    # The derived limit for the default 10 MB provider: 7089 KB.
    result = run_preflight(tmp_path, sized(7089))
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
        ({"mailman_core_delivery_retry_interval": "15"}, "a duration such as 90s"),
        ({"mailman_core_delivery_retry_interval": "30s1m"}, "(got '30s1m')"),
        ({"mailman_core_runner_sleep_time": "100ms"}, "seconds such as 0.1s or 1s"),
        # Issue 13 item 5: a list promising posts whose held-message notice
        # cannot leave (0 = no limit, or above what the intake takes).
        (sized("0"), "List team@example.org: max_message_size 0 (KB) breaks"),
        (sized(7090), "List team@example.org: max_message_size 7090 (KB) breaks"),
        (sized(-1), "List team@example.org: max_message_size -1 (KB) breaks"),
        ({"listserver_message_size_limit": 500000}, "message size limit must be at least"),
        (
            {"listserver_message_size_limit": 2000000, **sized(2000)},
            "max_message_size 2000 (KB) breaks the mail path. Set it between 1 and 1380",
        ),
        ({"postfix_intake_message_size_limit": 7259749}, "postfix_intake_message_size_limit"),
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


def entry(**fields: Any) -> dict[str, Any]:
    """One list definition: team@example.org owned by alice, with the given fields changed."""
    return {
        "listserver_lists": [
            {"name": "team", "domain": "example.org", "owners": ["alice@example.net"], **fields}
        ]
    }


# A mailbox on the list domain, without reaching out to the provider.
MAILBOX: dict[str, Any] = {
    "listserver_mailbox": "mailman@example.org",
    "vault_mailbox_password": "mb p$a's\"s #w%rd \\ end",
    "fetchmail_imap_check": False,
    "postfix_relay_check": False,
}


def assert_stops(result: subprocess.CompletedProcess[str], expected: str, secret: str = "") -> None:
    """The run failed, the failure says `expected`, and no secret value is in the output."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # Ansible repeats a failed task's message on one [ERROR] line.
    failures = "\n".join(line for line in output.splitlines() if line.startswith("[ERROR]"))
    assert expected in failures, output
    for key, value in {**GOOD, **MAILBOX}.items():
        if key.startswith("vault_"):
            assert value not in output, f"{key} leaked into the output"
    if secret:
        assert secret not in output, "the bad secret leaked into the output"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # Reserved addresses: the web UI's sender, Mailman's noreply, the mailbox itself.
        (
            lists("postorius", "a@b.org"),
            "'postorius@example.org': postorius@example.org is reserved",
        ),
        (lists("noreply", "a@b.org"), "'noreply@example.org': noreply@example.org is reserved"),
        ({**MAILBOX, **lists("mailman", "a@b.org")}, "mailman@example.org is reserved"),
        # Invalid local parts.
        (lists("team.", "a@b.org"), "'team.@example.org': the name must"),
        (lists("te..am", "a@b.org"), "'te..am@example.org': the name must"),
        (lists("t" * 60, "a@b.org"), "the name must"),
        # One mail domain for now.
        (entry(domain="other.org"), "'team@other.org': the domain must be example.org"),
        # The site owner's address is taken by a list (or one of its addresses).
        ({"listserver_admin_email": "team@example.org"}, "team@example.org is reserved"),
        (
            {"listserver_admin_email": "team-owner@example.org"},
            "team-owner@example.org is reserved",
        ),
        # People: lists of addresses, not strings or mappings.
        (entry(members=["not-an-address"]), "members: not e-mail addresses: not-an-address"),
        (entry(members=[{"display_name": "Dan"}]), "members entry 1 has no address"),
        (entry(owners="alice@example.net"), "'team@example.org': owners must be a list"),
        (entry(owners={"alice": "alice@example.net"}), "'team@example.org': owners must be a list"),
        (entry(moderators="bob@example.net"), "'team@example.org': moderators must be a list"),
        (entry(members="carol@example.net"), "'team@example.org': members must be a list"),
        (entry(settings="advertised: false"), "'team@example.org': settings must be a mapping"),
        (entry(settings=["advertised"]), "'team@example.org': settings must be a mapping"),
        (
            {"listserver_lists": ["team@example.org"]},
            "mailman_lists_definitions entry #1 must be a mapping",
        ),
    ],
)
def test_bad_list_definition_stops_with_the_entry_named(
    tmp_path: Path, overrides: dict[str, Any], expected: str
) -> None:
    assert_stops(run_preflight(tmp_path, overrides), expected)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"vault_mailman_rest_password": 123456789012345},
            "mailman_core_rest_password is a bare YAML number",
        ),
        (
            {"vault_web_admin_password": 1234567890123.5},
            "mailman_web_superuser_password is a bare YAML number",
        ),
        ({"vault_mailman_db_password": True}, "postgresql_databases[0].password is a YAML boolean"),
        ({"vault_django_secret_key": ["a", "list"]}, "mailman_web_secret_key is a list"),
        (
            {**MAILBOX, "vault_mailbox_password": 12345678},
            "postfix_relay_password is a bare YAML number",
        ),
    ],
)
def test_non_string_secret_stops_with_the_variable_named(
    tmp_path: Path, overrides: dict[str, Any], expected: str
) -> None:
    assert_stops(run_preflight(tmp_path, overrides), expected)


TEMPLATE_LIKE = "{{ rest p$a's\"s #w%rd \\ z"


@pytest.mark.parametrize(
    ("variable", "named"),
    [
        ("vault_mailman_rest_password", "mailman_core_rest_password"),
        ("vault_web_admin_password", "mailman_web_superuser_password"),
        ("vault_mailman_db_password", "postgresql_databases[].password"),
    ],
)
@pytest.mark.parametrize("marker", ["{{", "{%", "{#"])
def test_template_like_secret_stops_without_its_value(
    tmp_path: Path, variable: str, named: str, marker: str
) -> None:
    value = marker + TEMPLATE_LIKE[2:]
    result = run_preflight(tmp_path, {variable: value})
    assert_stops(result, f"{named} cannot be read", secret=value)
    assert "!unsafe" in result.stdout, result.stdout


def test_template_like_secret_written_unsafe_passes(tmp_path: Path) -> None:
    # Single-quoted YAML: only '' is special.
    value = TEMPLATE_LIKE.replace("'", "''")
    group_vars = (
        f"vault_mailman_rest_password: !unsafe '{value}'\n"
        f"vault_web_admin_password: !unsafe '{{% {value}'\n"
    )
    result = run_preflight(tmp_path, {}, group_vars)
    assert result.returncode == 0, result.stdout + result.stderr


def test_non_ascii_rest_password_stops_without_its_value(tmp_path: Path) -> None:
    value = "rest pässwörd 0123456789"
    result = run_preflight(tmp_path, {"vault_mailman_rest_password": value})
    assert_stops(result, "mailman_core_rest_password may only hold printable ASCII", secret=value)
    assert "pässwörd" not in result.stdout


def test_the_admin_user_name_admin_gets_a_warning(tmp_path: Path) -> None:
    result = run_preflight(tmp_path, {"listserver_admin_user": "Admin"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]: mailman_web_superuser_name (listserver_admin_user) is 'Admin'" in (
        result.stdout + result.stderr
    )


def test_another_admin_user_name_gets_no_warning(tmp_path: Path) -> None:
    result = run_preflight(tmp_path, {"listserver_admin_user": "listmaster"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mailman_web_superuser_name (listserver_admin_user)" not in (
        result.stdout + result.stderr
    )
