"""The provider_aliases module and playbooks/aliases.yml, run against the Mail API double.

Each test runs the real module in a subprocess (as a user would), with the
Mail API double on 127.0.0.1 standing in for the provider.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import TEAM_ALIASES
from mail_api_double import MailApiDouble

ROOT = Path(__file__).resolve().parents[2]
WRONG_BEARER = "wrong-token-4242"
SCOPELESS_BEARER = "scopeless-token-4242"
TEAM = TEAM_ALIASES
OLD = [alias.replace("team", "old", 1) for alias in TEAM]
LISTS: list[dict[str, Any]] = [
    {"name": "team", "domain": "example.org", "owners": ["alice@example.org"]},
    {"name": "board", "domain": "other.example", "owners": ["alice@example.org"]},
]


def ansible_bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not found")
    return found


def ansible_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "INFOMANIAK_API_TOKEN" and not key.startswith("ANSIBLE_")
    }
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.update(extra)
    return env


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    result: dict[str, Any]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class ModuleRunner:
    """Writes a one-task playbook and runs it with ansible-playbook."""

    def __init__(self, tmp_path: Path, double: MailApiDouble) -> None:
        self.tmp_path = tmp_path
        self.double = double
        self.inventory = tmp_path / "hosts.yml"
        self.inventory.write_text(
            json.dumps(
                {
                    "all": {
                        "hosts": {
                            "localhost": {
                                "ansible_connection": "local",
                                "ansible_python_interpreter": sys.executable,
                            }
                        }
                    }
                }
            )
        )

    def args(self, **overrides: object) -> dict[str, Any]:
        args: dict[str, Any] = {
            "api_url": self.double.url,
            "api_token": self.double.state.token,
            "mail_hosting_id": "1234",
            "mailbox": "mailman",
            "domain": "example.org",
            "lists": LISTS,
            "site_senders": ["postorius", "noreply"],
            "timeout": 5,
            "max_retries": 2,
            "retry_delay": 0,
        }
        args.update(overrides)
        return {key: value for key, value in args.items() if value is not None}

    def run(
        self,
        args: dict[str, Any],
        *flags: str,
        callback: str = "ansible.builtin.json",
        env: dict[str, str] | None = None,
    ) -> Run:
        playbook = self.tmp_path / "play.yml"
        task = {"name": "Provider aliases", "listserver.mailman3.provider_aliases": args}
        playbook.write_text(
            json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}])
        )
        done = subprocess.run(
            [ansible_bin("ansible-playbook"), "-i", str(self.inventory), str(playbook), *flags],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=ansible_env(ANSIBLE_STDOUT_CALLBACK=callback, **(env or {})),
            timeout=180,
            check=False,
        )
        result: dict[str, Any] = {}
        if callback.endswith("json"):
            try:
                report = json.loads(done.stdout)
                result = report["plays"][0]["tasks"][0]["hosts"]["localhost"]
            except (ValueError, KeyError, IndexError):
                pytest.fail(f"no JSON result\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
        return Run(done.returncode, done.stdout, done.stderr, result)


@pytest.fixture
def runner(tmp_path: Path, mail_api_double: MailApiDouble) -> ModuleRunner:
    return ModuleRunner(tmp_path, mail_api_double)


def methods(double: MailApiDouble) -> list[str]:
    return [call.method for call in double.log]


def test_adds_the_missing_aliases_with_one_post_each(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    mail_api_double.set_aliases(["info", "team"])
    run = runner.run(runner.args())
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["added"] == [*TEAM[1:], "postorius", "noreply"]
    assert run.result["required"] == [*TEAM, "postorius", "noreply"]
    assert run.result["removed"] == []
    assert run.result["unmanaged"] == ["info"]
    assert run.result["skipped_lists"] == ["board@other.example"]
    assert sorted(mail_api_double.aliases) == sorted(["info", *TEAM, "postorius", "noreply"])
    assert methods(mail_api_double) == ["GET"] + ["POST"] * 10
    assert mail_api_double.calls("POST")[0].body == {"alias": "team-bounces"}


def test_second_run_changes_nothing(runner: ModuleRunner, mail_api_double: MailApiDouble) -> None:
    assert runner.run(runner.args()).result["changed"] is True
    mail_api_double.clear_log()
    again = runner.run(runner.args())
    assert again.rc == 0, again.output
    assert again.result["changed"] is False
    assert again.result["added"] == []
    assert methods(mail_api_double) == ["GET"]


def test_check_mode_reports_but_posts_nothing(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    run = runner.run(runner.args(), "--check")
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["added"] == [*TEAM, "postorius", "noreply"]
    assert methods(mail_api_double) == ["GET"]
    assert mail_api_double.aliases == []


def test_diff_shows_the_alias_list_before_and_after(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    mail_api_double.set_aliases(["info", "old"])
    lists = [*LISTS, {"name": "old", "domain": "example.org", "state": "absent"}]
    run = runner.run(
        runner.args(lists=lists), "--diff", "--check", callback="ansible.builtin.default"
    )
    assert run.rc == 0, run.output
    assert "--- before: aliases of mailman" in run.stdout
    assert "+++ after: aliases of mailman" in run.stdout
    assert "+team-unsubscribe" in run.stdout
    assert "+postorius" in run.stdout
    assert "-old" in run.stdout
    assert " info" in run.stdout
    assert mail_api_double.aliases == ["info", "old"]


def test_diff_in_the_result(runner: ModuleRunner, mail_api_double: MailApiDouble) -> None:
    mail_api_double.set_aliases(["info"])
    diff = runner.run(runner.args(), "--diff").result["diff"]
    assert diff["before"] == "info\n"
    assert diff["after"].splitlines() == sorted(["info", *TEAM, "postorius", "noreply"])


def test_removes_only_aliases_of_lists_marked_absent(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    mail_api_double.set_aliases(["info", *TEAM, "postorius", "noreply", "old", "old-bounces", "x"])
    lists = [
        *LISTS,
        {"name": "old", "domain": "example.org", "state": "absent"},
        {"name": "gone", "domain": "example.org", "state": "absent"},
    ]
    run = runner.run(runner.args(lists=lists))
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["removed"] == ["old", "old-bounces"]
    assert run.result["unmanaged"] == ["info", "x"]
    assert sorted(mail_api_double.aliases) == sorted(["info", "x", *TEAM, "postorius", "noreply"])
    assert [call.path.rsplit("/", 1)[-1] for call in mail_api_double.calls("DELETE")] == [
        "old",
        "old-bounces",
    ]
    assert mail_api_double.calls("PUT") == []


def test_a_list_dropped_from_the_definitions_is_left_alone(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    mail_api_double.set_aliases([*TEAM, "postorius", "noreply", *OLD])
    run = runner.run(runner.args())
    assert run.result["changed"] is False
    assert run.result["unmanaged"] == sorted(OLD)
    assert methods(mail_api_double) == ["GET"]


def test_429_then_success_is_retried(runner: ModuleRunner, mail_api_double: MailApiDouble) -> None:
    mail_api_double.inject(429, count=2, retry_after="0")
    run = runner.run(runner.args())
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert [call.status for call in mail_api_double.log][:3] == [429, 429, 200]
    assert len(mail_api_double.aliases) == 11


def test_5xx_until_retries_are_exhausted_fails_clearly(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    mail_api_double.inject(503, count=10)
    run = runner.run(runner.args(max_retries=2))
    assert run.rc != 0
    assert run.result["failed"] is True
    assert "HTTP 503" in run.result["msg"]
    assert "gave up after 3 attempts" in run.result["msg"]
    assert len(mail_api_double.log) == 3


def test_401_says_the_token_is_wrong_or_expired(runner: ModuleRunner) -> None:
    run = runner.run(runner.args(api_token=WRONG_BEARER))
    assert run.result["failed"] is True
    assert "HTTP 401" in run.result["msg"]
    assert "wrong or expired" in run.result["msg"]


def test_403_says_the_token_lacks_the_mail_scope(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    mail_api_double.state.scopeless_tokens.add(SCOPELESS_BEARER)
    run = runner.run(runner.args(api_token=SCOPELESS_BEARER))
    assert run.result["failed"] is True
    assert "HTTP 403" in run.result["msg"]
    assert "lacks the mail scope" in run.result["msg"]
    assert "mail hosting 1234" in run.result["msg"]


def test_404_names_the_unknown_hosting(runner: ModuleRunner) -> None:
    run = runner.run(runner.args(mail_hosting_id="999999"))
    assert run.result["failed"] is True
    assert "Unknown mail hosting 999999 or mailbox 'mailman'" in run.result["msg"]
    assert "local part" not in run.result["msg"]


def test_404_with_a_full_address_says_to_give_the_local_part(runner: ModuleRunner) -> None:
    run = runner.run(runner.args(mailbox="mailman@example.org"))
    assert run.result["failed"] is True
    assert "HTTP 404" in run.result["msg"]
    assert "must be the local part (for example 'mailman')" in run.result["msg"]


def test_an_invalid_list_name_fails_before_any_call(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    run = runner.run(runner.args(lists=[{"name": "Team", "domain": "example.org"}]))
    assert run.result["failed"] is True
    assert "list 'Team@example.org'" in run.result["msg"]
    assert "lowercase" in run.result["msg"]
    assert mail_api_double.log == []


def test_the_token_can_come_from_the_environment(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    run = runner.run(
        runner.args(api_token=None), env={"INFOMANIAK_API_TOKEN": mail_api_double.state.token}
    )
    assert run.rc == 0, run.output
    assert run.result["changed"] is True


def test_no_token_fails_with_what_to_set(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    run = runner.run(runner.args(api_token=None))
    assert run.result["failed"] is True
    assert "api_token" in run.result["msg"]
    assert "INFOMANIAK_API_TOKEN" in run.result["msg"]
    assert mail_api_double.log == []


def test_offline_computes_without_any_call(
    runner: ModuleRunner, mail_api_double: MailApiDouble
) -> None:
    lists = [*LISTS, {"name": "old", "domain": "example.org", "state": "absent"}]
    run = runner.run(
        {"offline": True, "domain": "example.org", "lists": lists, "api_url": mail_api_double.url}
    )
    assert run.rc == 0, run.output
    assert run.result["changed"] is False
    assert run.result["required"] == [*TEAM, "postorius", "noreply"]
    assert run.result["removable"] == OLD
    assert mail_api_double.log == []


@pytest.mark.parametrize("token", ["wrong-token-5150", "test-token-0123456789"])
def test_the_token_is_never_printed_even_with_vvv(
    runner: ModuleRunner, mail_api_double: MailApiDouble, token: str
) -> None:
    mail_api_double.set_aliases(["info", "old"])
    lists = [*LISTS, {"name": "old", "domain": "example.org", "state": "absent"}]
    run = runner.run(
        runner.args(api_token=token, lists=lists),
        "-vvv",
        "--diff",
        callback="ansible.builtin.default",
    )
    assert mail_api_double.log, "the module did not reach the double"
    assert token not in run.output
    assert run.output.count("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER") >= 1


# --- playbooks/aliases.yml ------------------------------------------------------------------


def write_inventory(tmp_path: Path, double: MailApiDouble) -> Path:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "vars": {
                        "listserver_mail_domain": "example.org",
                        "listserver_admin_email": "admin@example.org",
                        "provider_aliases_api_url": double.url,
                        "provider_aliases_mail_hosting_id": "1234",
                        "provider_aliases_mailbox": "mailman",
                    },
                    "children": {
                        "mailman": {
                            "hosts": {
                                "lists.example.org": {
                                    "mailman_lists_definitions": [
                                        *LISTS,
                                        {"name": "old", "domain": "example.org", "state": "absent"},
                                    ]
                                }
                            }
                        }
                    },
                }
            }
        )
    )
    return inventory


def run_playbook(inventory: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ansible_bin("ansible-playbook"), "-i", str(inventory), "playbooks/aliases.yml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", **env),
        timeout=180,
        check=False,
    )


def test_playbook_without_token_prints_the_aliases_and_continues(
    tmp_path: Path, mail_api_double: MailApiDouble
) -> None:
    done = run_playbook(write_inventory(tmp_path, mail_api_double))
    assert done.returncode == 0, done.stdout + done.stderr
    flat = " ".join(done.stdout.split())
    assert "create these aliases of the mailbox on example.org by hand" in flat
    expected = ", ".join([*TEAM, "postorius", "noreply", "admin"])
    assert f"Create: {expected}" in flat
    assert "Delete if present (lists marked absent): old, old-bounces" in flat
    assert "Lists on other domains (ignored): board@other.example" in flat
    assert mail_api_double.log == []


def test_playbook_with_token_wires_the_aliases(
    tmp_path: Path, mail_api_double: MailApiDouble
) -> None:
    mail_api_double.set_aliases(["info", "old"])
    done = run_playbook(
        write_inventory(tmp_path, mail_api_double),
        INFOMANIAK_API_TOKEN=mail_api_double.state.token,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(mail_api_double.aliases) == sorted(
        ["info", *TEAM, "postorius", "noreply", "admin"]
    )
    assert mail_api_double.state.token not in done.stdout + done.stderr
