"""The mailman_list module, run for real (ansible-playbook) against the Mailman REST double.

The double (tests/doubles/mailman_rest_double.py) logs every request, so the
tests also prove how many requests a run costs: one roster read per list.
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
from mailman_rest_double import MailmanRestDouble, MailmanState

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "rest-double-pass-0123"  # noqa: S105 - the double's, not a secret
WRONG = "wrong-password-4242"
WRITES = "POST|PATCH|DELETE"


def ansible_playbook() -> str:
    beside = Path(sys.executable).parent / "ansible-playbook"
    found = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if found is None:
        pytest.skip("ansible-playbook not found")
    return found


@dataclass
class Run:
    rc: int
    output: str
    result: dict[str, Any]


class Runner:
    """Writes a one-task playbook and runs it with ansible-playbook (json callback)."""

    def __init__(self, tmp_path: Path, double: MailmanRestDouble) -> None:
        self.tmp_path = tmp_path
        self.double = double
        self.inventory = tmp_path / "hosts.json"
        host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        self.inventory.write_text(json.dumps({"all": {"hosts": {"localhost": host}}}))

    def run(self, *flags: str, password: str = PASSWORD, **args: Any) -> Run:
        module_args = {
            "name": "team",
            "domain": "example.org",
            "owners": ["alice@example.org"],
            "rest_url": self.double.url,
            "rest_password": password,
            "timeout": 10,
            **args,
        }
        return self.run_task("mailman_list", module_args, *flags)

    def run_task(self, module: str, module_args: dict[str, Any], *flags: str) -> Run:
        task = {"name": "List", f"listserver.mailman3.{module}": module_args}
        playbook = self.tmp_path / "play.json"
        playbook.write_text(
            json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}])
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update(
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
            ANSIBLE_NOCOLOR="1",
            NO_PROXY="127.0.0.1",
            no_proxy="127.0.0.1",
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        done = subprocess.run(
            [ansible_playbook(), "-i", str(self.inventory), str(playbook), *flags],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=300,
            check=False,
        )
        try:
            report = json.loads(done.stdout)
            result = report["plays"][0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError):
            pytest.fail(f"no JSON result\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
        return Run(done.returncode, done.stdout + done.stderr, result)


@pytest.fixture
def double() -> Any:
    with MailmanRestDouble(MailmanState(password=PASSWORD)) as running:
        yield running


@pytest.fixture
def runner(tmp_path: Path, double: MailmanRestDouble) -> Runner:
    return Runner(tmp_path, double)


MEMBERS = [f"member{i:04d}@example.net" for i in range(300)]


def test_a_new_list_is_created_and_a_second_run_changes_nothing(
    runner: Runner, double: MailmanRestDouble
) -> None:
    args = {
        "description": "Team discussions",
        "moderators": ["bob@example.org"],
        "members": [*MEMBERS, "Dan <dan@example.net>"],
        "settings": {"dmarc_mitigate_action": "munge_from", "advertised": False},
    }
    first = runner.run(**args)
    assert first.rc == 0, first.output
    assert first.result["changed"] is True
    state = double.state
    assert "team.example.org" in state.lists
    config = state.lists["team.example.org"]
    assert (config["description"], config["advertised"]) == ("Team discussions", False)
    assert config["dmarc_mitigate_action"] == "munge_from"
    assert state.roster("team.example.org", "owner") == ["alice@example.org"]
    assert state.roster("team.example.org", "moderator") == ["bob@example.org"]
    assert len(state.roster("team.example.org", "member")) == 301
    assert any(m.display_name == "Dan" for m in state.members.values())

    before = len(double.requests())
    second = runner.run(**args)
    assert second.rc == 0, second.output
    assert second.result["changed"] is False, second.result["changes"]
    assert second.result["changes"] == []
    during = double.state.log[before:]
    assert [r for r in during if r.method != "GET"] == []
    # The list's configuration and its whole roster: two requests, not one per member.
    assert [r.path for r in during] == ["/3.1/lists/team.example.org/config", "/3.1/members/find"]


def test_check_mode_reports_the_changes_and_writes_nothing(
    runner: Runner, double: MailmanRestDouble
) -> None:
    run = runner.run("--check", members=["carol@example.net"])
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert "create list team@example.org" in run.result["changes"]
    assert double.requests(WRITES) == []
    assert double.state.lists == {}


def test_diff_shows_the_rosters_before_and_after(runner: Runner, double: MailmanRestDouble) -> None:
    list_id = double.state.add_list("team@example.org")
    double.state.add_member(list_id, "alice@example.org", "owner")
    double.state.add_member(list_id, "joined@example.net")
    run = runner.run("--check", "--diff", members=["carol@example.net"])
    assert run.rc == 0, run.output
    diff = run.result["diff"]
    diff = diff[0] if isinstance(diff, list) else diff
    assert "  - joined@example.net" in diff["before"]
    assert "carol@example.net" not in diff["before"]
    assert "  - carol@example.net" in diff["after"]
    assert double.requests(WRITES) == []


def test_members_not_declared_stay_unless_members_exclusive(
    runner: Runner, double: MailmanRestDouble
) -> None:
    list_id = double.state.add_list("team@example.org")
    double.state.add_member(list_id, "alice@example.org", "owner")
    for address in ("carol@example.net", "joined@example.net", "left@example.net"):
        double.state.add_member(list_id, address)

    kept = runner.run(members=["carol@example.net"])
    assert kept.rc == 0, kept.output
    assert kept.result["changed"] is False
    assert len(double.state.roster(list_id, "member")) == 3

    pruned = runner.run(members=["carol@example.net"], members_exclusive=True)
    assert pruned.rc == 0, pruned.output
    assert pruned.result["removed"]["member"] == ["joined@example.net", "left@example.net"]
    assert double.state.roster(list_id, "member") == ["carol@example.net"]
    # One mass unsubscription, not one request per member.
    assert len(double.requests("DELETE")) == 1

    again = runner.run(members=["carol@example.net"], members_exclusive=True)
    assert again.result["changed"] is False


def test_absent_deletes_the_list(runner: Runner, double: MailmanRestDouble) -> None:
    double.state.add_list("team@example.org")
    run = runner.run(state="absent")
    assert run.rc == 0, run.output
    assert run.result["changes"] == ["delete list team@example.org"]
    assert double.state.lists == {}
    assert runner.run(state="absent").result["changed"] is False


def test_an_unknown_setting_fails_naming_it(runner: Runner, double: MailmanRestDouble) -> None:
    double.state.add_list("team@example.org")
    run = runner.run(settings={"no_such_setting": 1})
    assert run.rc != 0
    assert "no_such_setting" in run.result["msg"]
    assert double.requests(WRITES) == []


def test_a_wrong_password_fails_without_showing_it(runner: Runner) -> None:
    run = runner.run(password=WRONG)
    assert run.rc != 0
    assert "HTTP 401" in run.result["msg"]
    assert WRONG not in run.output


def test_the_role_adds_a_members_file_and_a_second_run_changes_nothing(
    tmp_path: Path, double: MailmanRestDouble
) -> None:
    list_id = double.state.add_list("news@example.org")
    double.state.add_member(list_id, "alice@example.org", "owner")
    double.state.add_member(list_id, "left@example.net")
    members = [f"reader{i:04d}@example.net" for i in range(200)]
    (tmp_path / "news.txt").write_text("# readers\n\n" + "\n".join(members) + "\n")
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "mailman_lists_rest_url": double.url,
        "mailman_lists_rest_password": PASSWORD,
        # The double has no Mailman beside it: the REST API alone.
        "mailman_lists_mailman_config": "",
        "mailman_lists_definitions": [
            {
                "name": "news",
                "domain": "example.org",
                "owners": ["alice@example.org"],
                "members": ["Carol <carol@example.net>"],
                "members_file": "news.txt",
                "members_exclusive": True,
            }
        ],
    }
    (tmp_path / "hosts.json").write_text(json.dumps({"all": {"hosts": {"localhost": host}}}))
    task = {
        "name": "Lists",
        "ansible.builtin.include_role": {"name": "mailman_lists", "tasks_from": "lists.yml"},
    }
    (tmp_path / "play.json").write_text(
        json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}])
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        NO_PROXY="127.0.0.1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    command = [
        ansible_playbook(),
        "-i",
        str(tmp_path / "hosts.json"),
        str(tmp_path / "play.json"),
    ]

    def converge() -> str:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    first = converge()
    assert "changed=1" in first, first
    assert double.state.roster(list_id, "member") == sorted(["carol@example.net", *members])
    second = converge()
    assert "changed=0" in second, second


def test_a_mailman_without_fields_on_members_find_is_read_all_the_same(
    runner: Runner, double: MailmanRestDouble
) -> None:
    double.state.find_fields = False
    list_id = double.state.add_list("team@example.org")
    double.state.add_member(list_id, "alice@example.org", "owner")
    double.state.add_member(list_id, "carol@example.net")
    run = runner.run(members=["carol@example.net", "dan@example.net"])
    assert run.rc == 0, run.output
    assert run.result["added"]["member"] == ["dan@example.net"]
    assert double.state.roster(list_id, "member") == ["carol@example.net", "dan@example.net"]


def test_mailman_lists_ensures_every_list_in_one_task(
    runner: Runner, double: MailmanRestDouble
) -> None:
    lists = [
        {"name": "team", "domain": "example.org", "owners": ["alice@example.org"]},
        {
            "name": "news",
            "domain": "example.org",
            "owners": ["alice@example.org"],
            "members": ["Dan <dan@example.net>"],
            "settings": {"advertised": False},
        },
    ]
    args = {"lists": lists, "rest_url": double.url, "rest_password": PASSWORD, "timeout": 10}
    first = runner.run_task("mailman_lists", args, "--diff")
    assert first.rc == 0, first.output
    assert first.result["changed"] is True
    assert sorted(first.result["lists"]) == ["news.example.org", "team.example.org"]
    assert "news@example.org: add 1 member: dan@example.net" in first.result["changes"]
    assert [d["after_header"] for d in first.result["diff"]] == [
        "list team@example.org",
        "list news@example.org",
    ]
    assert double.state.roster("news.example.org", "member") == ["dan@example.net"]
    assert double.state.lists["news.example.org"]["advertised"] is False

    second = runner.run_task("mailman_lists", args)
    assert second.rc == 0, second.output
    assert second.result["changed"] is False, second.result["changes"]
