"""Backup and restore (issue 14): the list server backs up to the object
storage stand-in (real Keystone + Swift), is lost, and a new, empty host is
rebuilt under its name with playbooks/restore.yml, as an operator would with
`make restore`.

The file name makes pytest run it last: it stops lists.e2e.lab.test for good.
The module fixture does the whole story once; each test checks one promise.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml
from conftest import LISTS, SCENARIO, World, archived, run_python, wait_for, wait_idle
from labkit.hosts import podman, rest
from test_mail_path import LIST, LIST_ID, MEMBERS, message

ROOT = SCENARIO.parent.parent
RESTORED = "restored.e2e.lab.test"
OBJECTSTORE = "objectstore.e2e.lab.test"
CREDENTIAL = "/root/listserver-backup-credential.json"
FQDN = "lists.e2e.lab.test"
ATTACHMENT = bytes(range(256)) * 4
REPORT = "/var/lib/prometheus/node-exporter/listserver_backup.prom"

# What a restore must bring back, read on a host: from Mailman's REST API and
# from the web app's database (users, archived messages).
STATE = """
import base64, json, os, subprocess, urllib.request
def rest(path):
    req = urllib.request.Request("http://127.0.0.1:8001/3.1" + path)
    token = base64.b64encode(("restadmin:" + os.environ["PW"]).encode()).decode()
    req.add_header("Authorization", "Basic " + token)
    return json.loads(urllib.request.urlopen(req, timeout=20).read())
def sql(query):
    out = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-d", "mailmanweb", "-AtXc",
                          query], check=True, capture_output=True, text=True).stdout
    return sorted(line for line in out.splitlines() if line)
state = {"lists": {}}
for entry in rest("/lists").get("entries", []):
    lid = entry["list_id"]
    members = rest(f"/lists/{lid}/roster/member").get("entries", [])
    held = rest(f"/lists/{lid}/held").get("entries", [])
    requests = rest(f"/lists/{lid}/requests").get("entries", [])
    config = rest(f"/lists/{lid}/config")
    state["lists"][lid] = {
        "members": sorted([m["email"], m.get("display_name") or ""] for m in members),
        "held": sorted(h.get("subject") or "" for h in held),
        "requests": sorted(r.get("email") or "" for r in requests),
        "config": {k: config.get(k) for k in ("dmarc_mitigate_action", "description",
                                              "max_message_size", "subscription_policy")},
    }
state["users"] = sql("select username || ' ' || is_superuser from auth_user")
state["archived"] = sql("select message_id from hyperkitty_email")
print(json.dumps(state))
"""

# The site admin signs in over HTTPS, trusting only pebble's root, as a browser
# trusts only the public CA: the restored certificate is served.
LOGIN = """
import hashlib, http.cookiejar, json, os, re, ssl, urllib.parse, urllib.request
lab = ssl.create_default_context(cafile="/etc/ssl/lab/pebble-listener-ca.pem")
root = urllib.request.urlopen("https://acme.e2e.lab.test:15000/roots/0", context=lab).read()
ctx = ssl.create_default_context(cadata=root.decode())
base = "https://" + os.environ["FQDN"]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                     urllib.request.HTTPCookieProcessor(jar))
page = opener.open(base + "/accounts/login/")
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode()).group(1)
form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": os.environ["USER"],
                               "password": os.environ["PW"]}).encode()
opener.open(urllib.request.Request(base + "/accounts/login/", data=form,
                                   headers={"Referer": base + "/accounts/login/"}))
admin = opener.open(base + "/admin/")
print(json.dumps({"logged_in": any(c.name == "sessionid" for c in jar),
                  "admin": admin.status == 200 and "/admin/login/" not in admin.geturl()}))
"""

RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=\d+", re.M
)


def state_of(host: testinfra.host.Host, lab: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = run_python(host, STATE, PW=lab["vault_mailman_rest_password"])
    return found


def rest_post(host: testinfra.host.Host, lab: dict[str, Any], path: str, body: str) -> int:
    answer = rest(host, path, lab["vault_mailman_rest_password"], "POST", body)
    status: int = answer["status"]
    return status


def ephemeral() -> Path:
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def restored_inventory(directory: Path) -> Path:
    """The scenario's inventory with the new host in the lost one's groups,
    under the list server's name (listserver_fqdn): the same inventory an
    operator keeps, pointed at a new machine."""
    source = ephemeral() / "inventory"
    inventory: dict[str, Any] = yaml.safe_load((source / "ansible_inventory.yml").read_text())
    for group in inventory.values():
        hosts = group.get("hosts") or {}
        if LISTS in hosts:
            lost = hosts.pop(LISTS)
            hosts.setdefault(RESTORED, {**lost, **(hosts.get(RESTORED) or {})})
            hosts[RESTORED] = {**hosts[RESTORED], "listserver_fqdn": FQDN}
            for key in ("ansible_host", "inventory_hostname"):
                hosts[RESTORED].pop(key, None)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    (directory / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (directory / "backup.yml").write_text((source / "backup.yml").read_text())
    (directory / "group_vars").symlink_to(SCENARIO / "group_vars")
    return directory


def playbook(inventory: Path, name: str, log: Path) -> str:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": f"{ROOT / 'roles'}:{ROOT / 'tests/lab/roles'}",
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    result = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(ROOT / "playbooks" / name)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=2400,
    )
    log.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"{name} failed, see {log}:\n{result.stdout[-4000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def story(lab: dict[str, Any], world: World, standin: testinfra.host.Host) -> dict[str, Any]:
    old = testinfra.get_host(f"podman://{LISTS}")
    new = testinfra.get_host(f"podman://{RESTORED}")
    tok = "r" + os.urandom(5).hex()  # Mailman lowercases addresses
    facts: dict[str, Any] = {"token": tok}

    # What the lost host holds beyond the inventory: a member added on the
    # web (non-ASCII name), a pending subscription, a held post, an archived
    # post with an attachment, and a post every member already received.
    zoe = f"zoe-{tok}@outside.test"
    assert (
        rest_post(
            old,
            lab,
            "/members",
            (
                f"list_id={LIST_ID}&subscriber={zoe}&display_name=Zo%C3%AB%20%C3%9Cnal&pre_verified=True"
                "&pre_confirmed=True&pre_approved=True&send_welcome_message=False"
            ),
        )
        == 201
    )
    pending = f"pending-{tok}@outside.test"
    assert (
        rest_post(
            old,
            lab,
            "/members",
            (
                f"list_id={LIST_ID}&subscriber={pending}&pre_verified=True&pre_confirmed=False"
                "&pre_approved=True"
            ),
        )
        == 202
    )
    world.post(message(f"stranger-{tok}@outside.test", LIST, f"Held {tok}", "not a member\n"))
    before_post = message("Alice <alice@outside.test>", LIST, f"Before backup {tok}", f"a1 {tok}\n")
    before_post.add_attachment(
        ATTACHMENT, maintype="application", subtype="octet-stream", filename="anlage-ü.bin"
    )
    world.post(before_post)
    for member in [*MEMBERS, zoe]:
        world.expect(member, f"Before backup {tok}")
    wait_for(
        lambda: archived(old, tok, FQDN),
        120,
        "the post before the backup in the archive",
    )
    # A delivery deferred earlier waits for Postfix's next retry otherwise.
    old.run("postqueue -f")
    wait_idle(old, standin, timeout=420)
    facts["held_subject"] = f"Held {tok}"
    facts["zoe"], facts["pending"] = zoe, pending

    # The nightly run, started now.
    backup = old.run("systemctl start listserver-backup.service")
    facts["backup_rc"] = backup.rc
    facts["backup_log"] = old.run("journalctl -u listserver-backup --no-pager -n 60").stdout
    facts["report"] = old.file(REPORT).content_string
    facts["snapshots"] = old.run("listserver-backup snapshots").stdout
    facts["before"] = state_of(old, lab)
    facts["cert"] = old.check_output(f"sha256sum /etc/letsencrypt/live/{FQDN}/cert.pem")
    facts["secrets_in_journal"] = [
        name
        for name in ("vault_backup_restic_password", "vault_mailman_db_password")
        if lab[name] in old.run("journalctl --no-pager -u listserver-backup").stdout
    ]

    # The host is lost. Mail keeps arriving at the provider meanwhile.
    podman("stop", "--time", "10", LISTS)
    waiting = message("Alice <alice@outside.test>", LIST, f"While down {tok}", f"w {tok}\n")
    world.post(waiting)
    facts["waiting_subject"] = f"While down {tok}"

    # The operator points the name at the new host and runs make restore.
    new.check_output(f"echo '127.0.0.1 {FQDN}' >> /etc/hosts")
    logs = ephemeral() / "restore-logs"
    logs.mkdir(exist_ok=True)
    inventory = restored_inventory(logs / "inventory")
    started = time.monotonic()
    playbook(inventory, "restore.yml", logs / "restore.log")
    print(f"restore.yml took {time.monotonic() - started:.0f} s (bench/backup measures it)")
    facts["second_converge"] = playbook(inventory, "site.yml", logs / "converge.log")
    facts["after"] = state_of(new, lab)
    facts["new"] = new
    return facts


def test_backup_ran_and_reports_success_for_monitoring(story: dict[str, Any]) -> None:
    assert story["backup_rc"] == 0, story["backup_log"]
    assert "listserver_backup_last_result 0" in story["report"], story["report"]
    assert "listserver_backup_last_size_bytes" in story["report"]
    assert FQDN in story["snapshots"], story["snapshots"]


def test_no_secret_reaches_the_journal(story: dict[str, Any]) -> None:
    assert story["secrets_in_journal"] == []


def test_every_list_member_setting_held_message_and_request_is_back(
    story: dict[str, Any],
) -> None:
    before, after = story["before"], story["after"]
    assert set(after["lists"]) == set(before["lists"])
    for list_id, was in before["lists"].items():
        now = after["lists"][list_id]
        assert now["members"] == was["members"], list_id
        assert now["held"] == was["held"], list_id
        assert now["requests"] == was["requests"], list_id
        assert now["config"] == was["config"], list_id
    team = after["lists"][LIST_ID]
    assert [story["zoe"], "Zoë Ünal"] in team["members"]
    assert story["held_subject"] in team["held"]
    assert story["pending"] in team["requests"]


def test_archive_and_users_are_back_and_searchable(
    story: dict[str, Any], lab: dict[str, Any]
) -> None:
    before, after = story["before"], story["after"]
    assert set(before["archived"]) <= set(after["archived"])
    assert after["users"] == before["users"]
    assert f"{lab['listserver_admin_user']} true" in after["users"] or (
        f"{lab['listserver_admin_user']} t" in after["users"]
    )
    new = story["new"]
    assert archived(new, story["token"], FQDN)


def test_admin_signs_in_over_the_restored_certificate(
    story: dict[str, Any], lab: dict[str, Any]
) -> None:
    new = story["new"]
    answer = run_python(
        new, LOGIN, FQDN=FQDN, USER=lab["listserver_admin_user"], PW=lab["vault_web_admin_password"]
    )
    assert answer == {"logged_in": True, "admin": True}
    cert = new.check_output(f"sha256sum /etc/letsencrypt/live/{FQDN}/cert.pem")
    assert cert == story["cert"], "the certificate was ordered again instead of restored"


def test_mail_that_waited_in_the_mailbox_arrives_once(story: dict[str, Any], world: World) -> None:
    for member in [*MEMBERS, story["zoe"]]:
        copies = world.fetch(member, story["waiting_subject"], count=1, timeout=180)
        assert len(copies) == 1, f"{member}: {len(copies)} copies"


def test_nothing_from_before_the_backup_is_sent_again(
    story: dict[str, Any], world: World, standin: testinfra.host.Host
) -> None:
    story["new"].run("postqueue -f")
    wait_idle(story["new"], standin, timeout=420)
    for member in [*MEMBERS, story["zoe"]]:
        copies = world.fetch(member, f"Before backup {story['token']}", timeout=0)
        assert len(copies) == 1, f"{member}: {len(copies)} copies"


def test_a_new_post_reaches_every_member_once(story: dict[str, Any], world: World) -> None:
    subject = f"After restore {story['token']}"
    world.post(message("Alice <alice@outside.test>", LIST, subject, "after\n"))
    for member in [*MEMBERS, story["zoe"]]:
        copies = world.fetch(member, subject, count=1, timeout=180)
        assert len(copies) == 1, f"{member}: {len(copies)} copies"


def test_a_converge_after_the_restore_changes_nothing(story: dict[str, Any]) -> None:
    recap = {m["host"]: m for m in RECAP.finditer(story["second_converge"])}
    assert RESTORED in recap, story["second_converge"][-2000:]
    assert recap[RESTORED]["changed"] == "0", story["second_converge"][-6000:]


@pytest.fixture(scope="module")
def s3(story: dict[str, Any]) -> dict[str, Any]:
    """The restored host moved to the S3 alternative (backup_target s3) of the
    same store (the stand-in's s3api, an EC2 credential): its backups join the
    repository its Swift backups made."""
    new = story["new"]
    store = testinfra.get_host(f"podman://{OBJECTSTORE}")
    credential = json.loads(store.file(CREDENTIAL).content_string)
    # The stand-in's endpoint has a certificate of its own, as a private S3
    # service would: the host checks it against that CA, not the system's.
    ca_file = "/etc/ssl/lab/objectstore-s3-ca.pem"
    new.check_output(f"printf '%s' {shlex.quote(credential['s3_ca_cert'])} > {ca_file}")
    logs = ephemeral() / "restore-logs"
    inventory = restored_inventory(logs / "inventory-s3")
    s3_vars = {
        "backup_s3_ca_file": ca_file,
        "backup_swift_container": "",
        "backup_s3_endpoint": credential["s3_endpoint"],
        "backup_s3_region": credential["s3_region"],
        "backup_s3_bucket": credential["container"],
        "backup_s3_access_key_id": credential["s3_access_key_id"],
        "vault_backup_s3_secret_access_key": credential["s3_secret_access_key"],
    }
    (inventory / "s3.yml").write_text(yaml.safe_dump({"listserver": {"vars": s3_vars}}))
    playbook(inventory, "backups.yml", logs / "s3-backups.log")
    playbook(inventory, "backup.yml", logs / "s3-backup.log")
    conf = new.run("cat /etc/listserver/backup/backup.conf").stdout
    return {
        "conf": conf,
        "snapshots": new.run("listserver-backup snapshots").stdout,
        "secrets": new.run("ls /etc/listserver/backup").stdout.split(),
        "s3_secret_mode": new.file("/etc/listserver/backup/s3-secret").mode,
        "journal_has_secret": credential["s3_secret_access_key"]
        in new.run("journalctl --no-pager -u listserver-backup").stdout,
        "report": new.file(REPORT).content_string,
    }


def snapshot_ids(listing: str) -> set[str]:
    return set(re.findall(r"^([0-9a-f]{8})\s", listing, re.M))


def test_the_s3_alternative_backs_up_into_the_same_repository(
    story: dict[str, Any], s3: dict[str, Any]
) -> None:
    assert "target=s3" in s3["conf"], s3["conf"]
    assert f"repository=s3:https://{OBJECTSTORE}:8443/" in s3["conf"], s3["conf"]
    assert "listserver_backup_last_result 0" in s3["report"], s3["report"]
    before, now = snapshot_ids(story["snapshots"]), snapshot_ids(s3["snapshots"])
    assert before, story["snapshots"]
    assert before < now, s3["snapshots"]


def test_the_s3_secret_is_root_only_and_the_swift_one_gone(s3: dict[str, Any]) -> None:
    assert "s3-secret" in s3["secrets"]
    assert "swift-secret" not in s3["secrets"]
    assert s3["s3_secret_mode"] == 0o600
    assert not s3["journal_has_secret"]
