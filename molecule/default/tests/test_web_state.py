"""The web role reads what is pending from Django, not from files of its own.

Each test changes the database by hand as a restore from an older backup or
an administrator would (superuser deleted, its password changed, a migration
rolled back), converges the mailman_web role on that host alone and checks
that the converge saw the change and put things right. A role that trusted a
record of its last run would find nothing to do and leave the damage.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[3]
MANAGE = ["python3", "/usr/share/mailman3-web/manage.py"]
BOOTSTRAP = "mailman_web : Set the Django site, its mail domains and the superuser"
MIGRATE = "mailman_web : Apply the database migrations"

# Runs inside `manage.py shell` as www-data: the superuser's row, and whether
# the password on stdin matches its hash. Reads only.
SUPERUSER = """
import json, os, sys
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
user = get_user_model().objects.filter(username=os.environ["NAME"]).first()
print(json.dumps({
    "exists": user is not None,
    "superuser": user is not None and user.is_superuser and user.is_staff,
    "password_ok": user is not None and check_password(sys.stdin.read(), user.password),
}))
"""

DELETE_SUPERUSER = """
import os
from django.contrib.auth import get_user_model
get_user_model().objects.filter(username=os.environ["NAME"]).delete()
"""

# A password set by hand; the hash is computed here, no password is passed.
CHANGE_BY_HAND = """
import os
from django.contrib.auth import get_user_model
user = get_user_model().objects.get(username=os.environ["NAME"])
user.set_password("changed by hand " + os.urandom(8).hex())
user.save()
"""


def manage(
    host: testinfra.host.Host, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """manage.py as www-data on the host; values in the environment, secrets on stdin."""
    flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    argv = ["podman", "exec", "-i", "--user", "www-data", *flags, host.backend.get_hostname()]
    return subprocess.run(
        [*argv, *MANAGE, *args], input=stdin, capture_output=True, text=True, check=False
    )


def django(host: testinfra.host.Host, code: str, stdin: str = "", **env: str) -> Any:
    result = manage(host, "shell", "--command", code, stdin=stdin, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def converge(host: testinfra.host.Host, tmp_path: Path) -> dict[str, Any]:
    """Run the web role on this host alone; the json callback's report of the run."""
    playbook = tmp_path / "web.yml"
    play = {"hosts": host.backend.get_hostname(), "gather_facts": True}
    play |= {"gather_subset": ["min"], "roles": ["listserver", "mailman_web"]}
    playbook.write_text(yaml.safe_dump([play]))
    env = {**os.environ, "ANSIBLE_ROLES_PATH": str(ROOT / "roles")}
    # The json callback alone on stdout (molecule enables profile_tasks).
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
    result = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return json.loads(result.stdout)


def changed_tasks(report: dict[str, Any]) -> list[str]:
    return [
        task["task"]["name"]
        for play in report["plays"]
        for task in play["tasks"]
        if any(result.get("changed") for result in task["hosts"].values())
    ]


@pytest.fixture
def superuser(lab_vars: dict[str, Any]) -> dict[str, str]:
    return {"NAME": lab_vars["listserver_admin_user"]}


def test_a_deleted_superuser_is_created_again(
    host: testinfra.host.Host, tmp_path: Path, lab_vars: dict[str, Any], superuser: dict[str, str]
) -> None:
    password = lab_vars["vault_web_admin_password"]
    django(host, DELETE_SUPERUSER, **superuser)
    assert not django(host, SUPERUSER, stdin=password, **superuser)["exists"]

    changed = changed_tasks(converge(host, tmp_path))

    assert changed == [BOOTSTRAP]
    state = django(host, SUPERUSER, stdin=password, **superuser)
    assert state == {"exists": True, "superuser": True, "password_ok": True}


def test_a_password_changed_by_hand_is_set_back(
    host: testinfra.host.Host, tmp_path: Path, lab_vars: dict[str, Any], superuser: dict[str, str]
) -> None:
    password = lab_vars["vault_web_admin_password"]
    django(host, CHANGE_BY_HAND, **superuser)
    assert not django(host, SUPERUSER, stdin=password, **superuser)["password_ok"]

    changed = changed_tasks(converge(host, tmp_path))

    assert changed == [BOOTSTRAP]
    assert django(host, SUPERUSER, stdin=password, **superuser)["password_ok"]


def test_a_rolled_back_migration_is_applied_again(
    host: testinfra.host.Host, tmp_path: Path
) -> None:
    # The sessions app has one migration: rolling it back drops its table
    # (and on Debian 13 unapplies django_mailman3's 0003_sessions, which
    # depends on it), as a dump of an older release would lack tables.
    # Everyone is logged out, nothing else is lost.
    rollback = manage(host, "migrate", "--no-input", "sessions", "zero")
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert manage(host, "migrate", "--check").returncode != 0, "nothing was rolled back"

    changed = changed_tasks(converge(host, tmp_path))

    assert changed == [MIGRATE]
    check = manage(host, "migrate", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
