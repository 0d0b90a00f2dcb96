"""The move (playbooks/adopt_move.yml) of the guide-built server onto the Debian 13 host,
then everything compared old against new, a post through the new host, and a converge
with the lists the move wrote: no change. Last of the scenario's tests (zzz): the old
server is stopped by it."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml
from labkit.hosts import address, install_mail_client, mail_client
from labkit.mail import message

ROOT = Path(__file__).resolve().parents[3]
FILES = Path(__file__).resolve().parents[1] / "files"
GUIDE = "guide.adopt.lab.test"
NEW = "lists.adopt.lab.test"
STANDIN = "provider.adopt.lab.test"
# Settings a post changes: the count and date of the last post, the digest's.
VOLATILE = {"post_id", "last_post_at", "next_digest_number", "volume", "digest_last_sent_at"}
OUTSIDE = "/var/vmail/outside.test"
# labkit/mail.py on the guide host (it trusts the stand-in's CA system-wide), as
# tests/test_guide_server.py sends; its network is all the old server keeps.
CLIENT_ENV = {"STANDIN": STANDIN, "STANDIN_CA": "", "HELO": "outside.adopt.lab.test"}
WAITING = "Wait for Mailman's and Postfix's queues to drain"

Host = testinfra.host.Host
# A Python snippet's start on a host: the web app's Django, as www-data runs it.
DJANGO = (
    "import os, sys; sys.path.insert(0, '/usr/share/mailman3-web');"
    " os.environ['DJANGO_SETTINGS_MODULE'] = 'settings'; import django; django.setup();"
)


def send(sender: str, recipient: str, subject: str) -> None:
    """A message to the provider, from the outside, as the rest of the world sends."""
    client = testinfra.get_host(f"podman://{GUIDE}")
    install_mail_client(client)
    request = {
        "envelope_from": sender,
        "rcpts": [recipient],
        "data": base64.b64encode(message(sender, [recipient], subject)).decode(),
    }
    sent = mail_client(client, "send", request, **CLIENT_ENV)
    assert sent["error"] is None, sent
    assert not sent["refused"], sent


def state(host: Host) -> dict[str, Any]:
    """Mailman core's and the web app's state, read through their own code."""
    found: dict[str, Any] = {}
    for name, user in (("state_core", "list"), ("state_web", "www-data")):
        code = base64.b64encode((FILES / f"{name}.py").read_bytes()).decode()
        host.check_output(f"echo {code} | base64 -d > /tmp/{name}.py")
        found[name] = json.loads(host.check_output(f"runuser -u {user} -- python3 /tmp/{name}.py"))
    return found


def archived(host: Host, subject: str) -> None:
    """Wait until the new host's archive holds the post (fetched after the move)."""
    code = (
        DJANGO + " from hyperkitty.models import Email;"
        " print(Email.objects.filter(subject__endswith=os.environ['SUBJECT']).count())"
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        count = host.check_output(
            "runuser -u www-data -- env SUBJECT=%s python3 -c %s", subject, code
        )
        if count != "0":
            return
        time.sleep(5)


def inventory(tmp: Path, lists: Path | None = None) -> list[str]:
    """Molecule's inventory, and one holding the lists the move wrote (as an operator's)."""
    arguments = ["-i", os.environ["MOLECULE_INVENTORY_FILE"]]
    if lists is not None:
        directory = tmp / "inventory"
        (directory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        (directory / "hosts.yml").write_text(yaml.safe_dump({"mailman": {"hosts": {NEW: {}}}}))
        (directory / "group_vars" / "all" / "adopted-lists.yml").write_text(lists.read_text())
        arguments += ["-i", str(directory)]
    return arguments


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "Give the old server's address"),
        (["-e", f"adopt_from={GUIDE}", "--check"], "The move has no check mode"),
    ],
)
def test_bad_input_stops_the_move_before_anything(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    # Before the move's fixture: both servers are as the converge left them.
    result = subprocess.run(
        [
            "ansible-playbook",
            *inventory(tmp_path),
            str(ROOT / "playbooks/adopt_move.yml"),
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not testinfra.get_host(f"podman://{NEW}").package("mailman3").is_installed
    assert testinfra.get_host(f"podman://{GUIDE}").service("fetchmail").is_running


@pytest.fixture(scope="module")
def move(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("move")
    # A non-member's post just before: the old server takes it, or the new one does.
    held = f"held before the move {uuid.uuid4().hex[:8]}"
    send("stranger@outside.test", "team@lab.test", held)
    argv = [
        *("ansible-playbook", *inventory(tmp), str(ROOT / "playbooks" / "adopt_move.yml")),
        *("-e", f"adopt_from={GUIDE}", "-e", f"adopt_lists_file={tmp / 'lists.yml'}"),
        *("-e", f"adopt_plan_file={tmp / 'plan.yml'}"),
        *("-e", f"provider_aliases_api_url=http://{address(STANDIN)}:8080"),
    ]
    posted = f"posted during the move {uuid.uuid4().hex[:8]}"
    output, sent = [], False
    plain = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1"}
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=plain) as run:
        assert run.stdout is not None
        for line in run.stdout:
            output.append(line)
            # A member's post while neither server fetches: the new host must take it.
            if WAITING in line and not sent:
                send("m002@outside.test", "team@lab.test", posted)
                sent = True
    guide, new = testinfra.get_host(f"podman://{GUIDE}"), testinfra.get_host(f"podman://{NEW}")
    if run.returncode == 0:
        archived(new, posted)
    return {
        "rc": run.returncode,
        "sent": sent,
        "output": "".join(output),
        "lists": tmp / "lists.yml",
        "plan": yaml.safe_load((tmp / "plan.yml").read_text()),
        "held": held,
        "posted": posted,
        "old": state(guide),
        "new": state(new),
        "tmp": tmp,
    }


def test_the_move_succeeds(move: dict[str, Any]) -> None:
    assert move["rc"] == 0, move["output"][-6000:]
    assert move["sent"], "no post was sent while the old server's queues drained"


def test_the_old_server_is_left_stopped(move: dict[str, Any]) -> None:
    guide = testinfra.get_host(f"podman://{GUIDE}")
    for unit in ("fetchmail", "mailman3", "mailman3-web"):
        assert not guide.service(unit).is_running, unit
        assert not guide.service(unit).is_enabled, unit
    assert guide.process.filter(comm="fetchmail") == []
    assert guide.file("/var/lib/mailman3/data/mailman.db").exists


def without(roster: dict[str, Any], *addresses: str) -> dict[str, Any]:
    return {k: v for k, v in roster.items() if k not in addresses}


def test_domains_lists_and_their_settings_moved(move: dict[str, Any]) -> None:
    old, new = move["old"]["state_core"], move["new"]["state_core"]
    assert set(new["lists"]) == set(old["lists"]) == {"team@lab.test", "announce@lab.test"}
    assert set(new["domains"]) == set(old["domains"])
    changes = {(c["list"], c["setting"]): c["to"] for c in move["plan"]["changes"]}
    assert changes, "the plan names no change: dmarc_mitigate_unconditionally was expected"
    for fqdn, before in old["lists"].items():
        after = new["lists"][fqdn]["settings"]
        for name, value in before["settings"].items():
            if name in VOLATILE or name not in after:
                continue
            assert after[name] == changes.get((fqdn, name), value), (fqdn, name)
        assert after["post_id"] >= before["settings"]["post_id"]


def test_members_owners_and_moderators_moved_with_their_preferences(move: dict[str, Any]) -> None:
    old, new = move["old"]["state_core"], move["new"]["state_core"]
    for fqdn, before in old["lists"].items():
        after = new["lists"][fqdn]["rosters"]
        for role in ("members", "owners", "moderators"):
            assert after[role] == before["rosters"][role], (fqdn, role)
        # The non-member whose post is held may have reached either server.
        assert without(after["nonmembers"], "stranger@outside.test") == without(
            before["rosters"]["nonmembers"], "stranger@outside.test"
        )
    assert len(new["lists"]["team@lab.test"]["rosters"]["members"]) == 250
    assert {u: v for u, v in new["users"].items() if u in old["users"]} == old["users"]
    # Some users prefer a second address: the key the copy writes after both rows exist.
    assert sum(1 for user in old["users"].values() if user["preferred"]) >= 20


def test_held_messages_and_pending_requests_moved(move: dict[str, Any]) -> None:
    old, new = move["old"]["state_core"], move["new"]["state_core"]
    for fqdn, before in old["lists"].items():
        after = new["lists"][fqdn]
        assert after["pending"] == before["pending"], fqdn
        held = {k: v for k, v in after["held"].items() if v["subject"] != move["held"]}
        assert held == {k: v for k, v in before["held"].items() if v["subject"] != move["held"]}
    # Held once, on whichever server fetched it; its body came along.
    team = new["lists"]["team@lab.test"]["held"].values()
    assert [h["subject"] for h in team].count(move["held"]) == 1


def test_web_users_archives_threads_and_votes_moved(move: dict[str, Any]) -> None:
    old, new = move["old"]["state_web"], move["new"]["state_web"]
    for user in ("alice", "bob"):
        assert new["users"][user] == old["users"][user], user
    assert new["lists"] == old["lists"]
    posted = {k: v for k, v in new["posts"].items() if v["subject"].endswith(move["posted"])}
    assert len(posted) == 1, "the post made during the move is archived once"
    assert {k: v for k, v in new["posts"].items() if k not in posted} == old["posts"]
    threads = {f"team@lab.test/{v['thread']}" for v in posted.values()}
    assert {k: v for k, v in new["threads"].items() if k not in threads} == old["threads"]
    assert new["votes"] == old["votes"]
    assert sum(len(p["attachments"]) for p in new["posts"].values()) == 40


def test_web_users_log_in_with_their_own_passwords(move: dict[str, Any]) -> None:
    passwords = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "group_vars/all/lab.yml").read_text()
    )["lab_guide_user_passwords"]
    new = testinfra.get_host(f"podman://{NEW}")
    code = (
        DJANGO + " import json; from django.contrib.auth import authenticate;"
        " given = json.loads(os.environ['PASSWORDS']);"
        " print(json.dumps({u: authenticate(username=u, password=p) is not None"
        " for u, p in given.items()}))"
    )
    result = new.run(
        "runuser -u www-data -- env PASSWORDS=%s python3 -c %s", json.dumps(passwords), code
    )
    assert result.rc == 0, result.stderr
    assert json.loads(result.stdout) == {"alice": True, "bob": True}


def test_the_post_made_during_the_move_reaches_every_member_once(move: dict[str, Any]) -> None:
    standin = testinfra.get_host(f"podman://{STANDIN}")
    members = sorted(move["new"]["state_core"]["lists"]["team@lab.test"]["rosters"]["members"])
    # The messages only, not Dovecot's index of them.
    files = f"grep -rlF --exclude='dovecot*' {move['posted']!r} {OUTSIDE}"
    command = f"{files} | cut -d/ -f5 | sort | uniq -c"
    deadline = time.monotonic() + 600
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        found = standin.run(command).stdout.split()
        counts = {found[i + 1]: int(found[i]) for i in range(0, len(found), 2)}
        if len(counts) >= len(members):
            break
        time.sleep(10)
    time.sleep(15)  # a second copy would follow the first within the pacing
    found = standin.run(command).stdout.split()
    counts = {found[i + 1]: int(found[i]) for i in range(0, len(found), 2)}
    assert counts == {m.split("@")[0]: 1 for m in members}
    # Nothing left behind in the provider mailbox: every message was fetched once.
    mailbox = "/var/vmail/lab.test/mailman/Maildir"
    assert standin.run(f"find {mailbox}/new {mailbox}/cur -type f").stdout.strip() == ""


def test_the_next_converge_with_the_written_lists_changes_nothing(move: dict[str, Any]) -> None:
    written = yaml.safe_load(move["lists"].read_text())
    assert {e["name"] for e in written["listserver_lists"]} == {"team", "announce"}
    result = subprocess.run(
        [
            "ansible-playbook",
            *inventory(move["tmp"], move["lists"]),
            str(ROOT / "playbooks" / "site.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    recap = result.stdout.split("PLAY RECAP")[-1]
    assert re.search(rf"{NEW}\S*\s*:.*changed=0\s", recap), recap
