#!/usr/bin/env python3
"""The demo on the local lab (make demo): bring it up, post, read the copies, check, remove.

The lab is molecule/demo: the provider stand-in provider.demo.lab.test and the list server
lists.demo.lab.test on the podman network listserver-demo. This machine plays the outside
world: it posts to the stand-in's port 25 as a member would and reads the members' mailboxes
there over IMAPS. Values come from the demo's inventory (molecule/demo/group_vars/all), the
generated secrets from its directory (DEMO_DIR, ~/.cache/listserver/demo).

    up [--unchanged]   lab image, hosts, stand-in (once), deploy = molecule converge
                       (playbooks/aliases.yml + playbooks/site.yml), one post, its copies,
                       then where to look. --unchanged: fail unless the deploy changed nothing
       [--collection ARTIFACT]
                       deploy from that collection artifact (tools/collection-build) as a
                       consultant does: installed apart, run outside the repository with
                       Ansible's own strategy, ansible-playbook listserver.mailman3.site
                       -i tests/smoke/demo-inventory
    post               one post from the first member to the list; waits for every copy
    mail               the copies in each member's mailbox at the stand-in
    check              the last post: a copy in every member's mailbox with List-Id and the
                       From: of the list (DMARC munge_from), the web UI and the post's
                       archive page answer (make demo-test)
    clean              the hosts, the network, the demo's directory

Progress goes to the terminal as one line per step; the full output of each step to
DEMO_DIR/logs/, whose tail is printed when the step fails.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import http.client
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))

from labkit import hosts  # noqa: E402
from labkit import mail as labmail  # noqa: E402
from labkit.hosts import LabError  # noqa: E402

SCENARIO = ROOT / "molecule" / "demo"
CACHE = Path(
    os.environ.get("LISTSERVER_CACHE_DIR") or Path.home() / ".cache" / "listserver"
).expanduser()
DEMO_DIR = CACHE / "demo"
LOGS = DEMO_DIR / "logs"
LAST_POST = DEMO_DIR / "last-post.json"
# Where the single-host demo kept its secrets until 2026-12; make demo-clean removes it too.
OLD_SECRETS = CACHE / "demo-secrets"
NETWORK = "listserver-demo"
STANDIN = "provider.demo.lab.test"
LISTS = "lists.demo.lab.test"
HOSTS = (STANDIN, LISTS)
WEB_PORT = 8443
DELIVERY_TIMEOUT = 180.0
ARCHIVE_TIMEOUT = 90.0


class DemoError(Exception):
    """What went wrong, in one paragraph; printed without a traceback."""


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def took(began: float) -> str:
    seconds = int(time.monotonic() - began)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


# The demo's inventory -------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    """What the demo's inventory declares, and where its secrets are."""

    fqdn: str
    list_address: str
    list_id: str
    members: list[tuple[str, str]]
    admin_user: str
    mailbox: str
    api_port: int

    @classmethod
    def load(cls) -> Demo:
        values: dict[str, Any] = {}
        for path in sorted((SCENARIO / "group_vars" / "all").glob("*.yml")):
            values.update(yaml.safe_load(path.read_text()) or {})
        first = values["listserver_lists"][0]
        members = [
            (m, "") if isinstance(m, str) else (m["address"], m.get("display_name", ""))
            for m in first.get("members", [])
        ]
        return cls(
            fqdn=values["listserver_fqdn"],
            list_address=f"{first['name']}@{first['domain']}",
            list_id=f"{first['name']}.{first['domain']}",
            members=members,
            admin_user=values.get("listserver_admin_user", "admin"),
            mailbox=values["listserver_mailbox"],
            api_port=int(values["provider_standin_api_port"]),
        )

    @staticmethod
    def secret(name: str) -> str:
        """A secret the password lookups generated (DEMO_DIR/secrets/NAME)."""
        path = DEMO_DIR / "secrets" / name
        try:
            # The lookup writes the password, then " salt=..." only when encrypting.
            return path.read_text().split()[0]
        except (OSError, IndexError) as exc:
            raise DemoError(f"{path} is missing: the demo is not deployed (make demo)") from exc


# Commands -------------------------------------------------------------------------------


def run(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


# Molecule's and Ansible's output without colours or Molecule's borders (PLAIN), and
# what a line still carries of them stripped (COLOUR, BORDER).
PLAIN = {
    "NO_COLOR": "1",
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_FORCE_COLOR": "0",
    "PY_COLORS": "0",
    "MOLECULE_COMMAND_BORDERS": "false",
    # The log shows how long each task took, and the slowest at the end.
    "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
}
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
BORDER = re.compile(r"^\s*│ ?")
PLAY = re.compile(r"^PLAY \[(?P<name>.*)\]")
TASK = re.compile(r"^TASK \[(?P<name>.*)\]")
RECAP = re.compile(r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)")
PROBLEM = re.compile(r"^(fatal|failed|ERROR|CRITICAL)[:!\s]")
HEARTBEAT = 30.0


@dataclass
class StepResult:
    changed: int
    tasks: int


def step(
    name: str,
    argv: list[str],
    *,
    plays: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    unset: tuple[str, ...] = (),
) -> StepResult:
    """Run one step with its output in a log; shows plays, long tasks and failures."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}.log"
    changed = tasks = 0
    current_task, reported_task = "", ""
    began = last_line = time.monotonic()
    with log_path.open("w") as log:
        log.write(f"$ {' '.join(argv)}\n")
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={k: v for k, v in {**os.environ, **PLAIN, **(env or {})}.items() if k not in unset},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        pending = b""
        while True:
            ready, _, _ = select.select([process.stdout], [], [], 5.0)
            if not ready:
                quiet = time.monotonic() - last_line
                if current_task and current_task != reported_task and quiet > HEARTBEAT:
                    say(f"    ... {current_task} ({took(began)} so far)")
                    reported_task = current_task
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace")
                log.write(line + "\n")
                text = BORDER.sub("", COLOUR.sub("", line)).rstrip()
                if plays and (match := PLAY.match(text)):
                    say(f"  - {match['name'] or 'play'}")
                    last_line = time.monotonic()
                elif match := TASK.match(text):
                    current_task, last_line = match["name"], time.monotonic()
                elif match := RECAP.match(text):
                    tasks += int(match["ok"])
                    changed += int(match["changed"])
                elif PROBLEM.match(text):
                    say(f"    {text[:300]}")
            log.flush()
        log.write(pending.decode(errors="replace"))
        code = process.wait()
    if code != 0:
        tail = log_path.read_text().splitlines()[-40:]
        raise DemoError(f"{name} failed (exit {code}); full log: {log_path}\n" + "\n".join(tail))
    return StepResult(changed, tasks)


def molecule(action: str) -> list[str]:
    return ["molecule", action, "-s", "demo"]


# Creating and destroying the hosts are plays on the controller that wait for async
# podman tasks: Ansible's own strategy, not Mitogen (see strategy_plugins/).
CONTROLLER_ONLY = {"ANSIBLE_STRATEGY": "linear"}


# Bringing the lab up ----------------------------------------------------------------------


def reset_stale_lab() -> None:
    """Molecule trusts its state file: a lab short of a host is removed and made again."""
    present = [host for host in HOSTS if hosts.exists(host)]
    if len(present) < len(HOSTS):
        if present:
            say(f"the lab is incomplete ({', '.join(present)} only): removing it first")
        # Also forgets a lab removed behind Molecule's back (it would skip creating it).
        step("reset", molecule("destroy"), env=CONTROLLER_ONLY)
        for host in HOSTS:
            hosts.podman("rm", "--force", "--time", "5", host, check=False)
    for host in present if len(present) == len(HOSTS) else []:
        if not hosts.running(host):
            say(f"starting {host} again")
            hosts.podman("start", host)


# The demo's list server as a client's inventory (group_vars: the demo's own).
CLIENT_INVENTORY = ROOT / "tests" / "smoke" / "demo-inventory"
# What points Ansible at this repository; a consultant's controller has none of it.
REPOSITORY_SETTINGS = ("ANSIBLE_CONFIG", "ANSIBLE_ROLES_PATH", "ANSIBLE_STRATEGY_PLUGINS")


def deploy_from_collection(artifact: Path) -> StepResult:
    """Install the artifact apart and deploy with its playbooks, outside the repository."""
    collections = DEMO_DIR / "collections"
    shutil.rmtree(collections, ignore_errors=True)
    consultant = {
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_STRATEGY": "linear",
        "ANSIBLE_PIPELINING": "true",
    }
    options: dict[str, Any] = {"env": consultant, "cwd": DEMO_DIR, "unset": REPOSITORY_SETTINGS}
    install = ["ansible-galaxy", "collection", "install", "-p", str(collections), str(artifact)]
    step("collection-install", install, **options)
    api = f"http://{standin().address}:{Demo.load().api_port}"
    playbook = ["ansible-playbook", "-i", str(CLIENT_INVENTORY)]
    aliases = ["listserver.mailman3.aliases", "-e", f"provider_aliases_api_url={api}"]
    first = step("collection-aliases", [*playbook, *aliases], plays=True, **options)
    site = step("converge", [*playbook, "listserver.mailman3.site"], plays=True, **options)
    return StepResult(first.changed + site.changed, first.tasks + site.tasks)


def up(unchanged: bool, collection: Path | None = None) -> None:
    began = time.monotonic()
    demo = Demo.load()
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    image = run([str(ROOT / "lab" / "build-image"), "trixie"]).stdout.strip().splitlines()
    say(image[-1] if image else "lab image ready")

    reset_stale_lab()
    t = time.monotonic()
    step("create", molecule("create"), env=CONTROLLER_ONLY)
    say(f"hosts up: {', '.join(HOSTS)} on the podman network {NETWORK} ({took(t)})")

    t = time.monotonic()
    result = step("prepare", molecule("prepare"))
    if result.tasks:
        say(f"provider stand-in up: Postfix, Dovecot, Mail API double ({took(t)})")
    else:
        say("provider stand-in already up")

    t = time.monotonic()
    source = f"the collection {collection.name}" if collection else "playbooks/"
    say(f"deploying with {source} (log: {LOGS}/converge.log)")
    if collection:
        result = deploy_from_collection(collection)
    else:
        result = step("converge", molecule("converge"), plays=True)
    say(f"deployed: {result.tasks} tasks, {result.changed} changed ({took(t)})")
    if unchanged and result.changed:
        raise DemoError(
            f"the deploy changed {result.changed} things on a lab that was up: it is not "
            f"idempotent (see 'changed:' in {LOGS}/converge.log)"
        )

    post(demo)
    summary(demo, began)


# The outside world: post and read ---------------------------------------------------------


def standin() -> labmail.Server:
    """The stand-in as this machine reaches it: by address, its certificate checked by name."""
    address = hosts.address(STANDIN)
    if not address:
        raise DemoError(f"{STANDIN} is not running: make demo")
    return labmail.Server(STANDIN, str(DEMO_DIR / "standin-ca.pem"), address, "example.test")


def mailbox(
    server: labmail.Server, user: str, password: str, message_id: str = ""
) -> list[EmailMessage]:
    """Messages in a mailbox at the stand-in (those with that Message-ID), oldest first."""
    answer = labmail.fetch(user, password, message_id, count=0, timeout=0, server=server)
    if answer["error"]:
        raise DemoError(f"could not read {user} at the stand-in: {answer['error']}")
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(base64.b64decode(raw)) for raw in answer["messages"]]


def post(demo: Demo) -> None:
    """One post from the first member, sent to the stand-in's port 25; waits for the copies."""
    server = standin()
    sender_address, sender_name = demo.members[0]
    number = len(mailbox(server, sender_address, Demo.secret("outside"))) + 1
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr((sender_name or "Alice", sender_address))
    msg["To"] = demo.list_address
    msg["Subject"] = f"Hello from the demo #{number}"
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = email.utils.make_msgid("demo", sender_address.split("@")[1])
    msg.set_content(
        "A post to the demo list: sent to the provider's inbound port 25, fetched from the\n"
        "list mailbox by the list server's intake, distributed by Mailman, relayed through\n"
        "the provider's submission into every member's mailbox, archived by HyperKitty.\n"
    )
    answer = labmail.send(
        sender_address, [demo.list_address], msg.as_bytes(policy=policy.SMTP), server=server
    )
    if answer["error"] or answer["refused"]:
        refusal = answer["error"] or answer["refused"]
        raise DemoError(f"the stand-in refused the post ({server.address}:25): {refusal}")
    sent = time.time()
    LAST_POST.write_text(json.dumps({"message_id": msg["Message-ID"], "sent": sent}))
    say(
        f'posted "{msg["Subject"]}" as {sender_address} to {demo.list_address} '
        f"(the stand-in's port 25)"
    )
    wait_for_copies(demo, server, msg["Message-ID"], sent)


def wait_for_copies(demo: Demo, server: labmail.Server, message_id: str, sent: float) -> None:
    password = Demo.secret("outside")
    waiting = [member for member, _name in demo.members]
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while waiting:
        for member in list(waiting):
            try:
                if mailbox(server, member, password, message_id):
                    say(f"  copy delivered to {member} ({time.time() - sent:.0f} s after the post)")
                    waiting.remove(member)
            except DemoError:
                pass  # the stand-in is busy or restarting: ask again
        if waiting and time.monotonic() > deadline:
            raise DemoError(
                f"no copy for {', '.join(waiting)} after {DELIVERY_TIMEOUT:.0f} s.\n"
                + diagnose(demo, server, message_id)
            )
        if waiting:
            time.sleep(1)


def diagnose(demo: Demo, server: labmail.Server, message_id: str) -> str:
    """Where the post stopped: the list mailbox, the list server's queue, the logs."""
    lines = []
    try:
        held = mailbox(server, demo.mailbox, Demo.secret("mailbox"), message_id)
        lines.append(
            f"- the post is still in the list mailbox {demo.mailbox} at the stand-in: the "
            "intake (fetchmail-intake on the list server) did not fetch it"
            if held
            else f"- the post is no longer in the list mailbox {demo.mailbox} (fetched)"
        )
    except DemoError as exc:
        lines.append(f"- could not read the list mailbox: {exc}")
    commands = [
        (LISTS, "systemctl is-active fetchmail-intake mailman3 postfix"),
        (LISTS, "postqueue -p | tail -n 20"),
        (LISTS, "journalctl -u fetchmail-intake -n 15 --no-pager"),
        (LISTS, "journalctl -t postfix/smtp -t postfix/lmtp -t postfix/smtpd -n 20 --no-pager"),
        (LISTS, "tail -n 15 /var/log/mailman3/smtp.log /var/log/mailman3/mailman.log"),
        (STANDIN, "tail -n 20 /var/log/mail.log"),
    ]
    for host, command in commands:
        out = run(["podman", "exec", host, "sh", "-c", command], check=False)
        lines.append(f"--- {host}: {command}\n{(out.stdout + out.stderr).rstrip()}")
    return "\n".join(lines)


def mail() -> None:
    demo = Demo.load()
    server = standin()
    password = Demo.secret("outside")
    print(
        f"Mailboxes of the members at the provider stand-in {STANDIN}"
        f" (IMAPS {server.address}:993,\n"
        f"CA {DEMO_DIR / 'standin-ca.pem'}, login: the address, password: {password}):"
    )
    for member, _name in demo.members:
        messages = mailbox(server, member, password)
        print(f"\n{member}: {len(messages)} message{'s' if len(messages) != 1 else ''}")
        for msg in messages:
            print(f"  {msg['Date']}")
            print(f"    Subject:  {msg['Subject']}")
            print(f"    From:     {msg['From']}")
            print(f"    Reply-To: {msg['Reply-To']}")
            print(f"    List-Id:  {msg['List-Id']}")


# The check of make demo-test ----------------------------------------------------------------


class LocalHTTPS(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1:WEB_PORT with the FQDN as SNI and Host (no DNS, no /etc/hosts)."""

    def __init__(self, fqdn: str) -> None:
        context = ssl.create_default_context()
        # The demo's certificate is self-signed (listserver_tls_mode: selfsigned);
        # make smoke-demo checks it. Here: does the web UI answer.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        super().__init__(fqdn, WEB_PORT, context=context, timeout=30)

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def web_status(fqdn: str, path: str) -> int:
    conn = LocalHTTPS(fqdn)
    try:
        conn.request("GET", path, headers={"Host": fqdn})
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


def problems_with_copy(demo: Demo, member: str, copies: list[EmailMessage]) -> list[str]:
    """What is wrong with a member's copy of the post (nothing: an empty list)."""
    if not copies:
        return [f"{member}: no copy of the post in the mailbox"]
    msg = copies[-1]
    found = []
    if f"<{demo.list_id}>" not in str(msg["List-Id"] or ""):
        found.append(f"{member}: List-Id is {msg['List-Id']!r}, not <{demo.list_id}>")
    senders = msg["From"].addresses if msg["From"] else ()
    if [a.addr_spec.lower() for a in senders] != [demo.list_address]:
        found.append(
            f"{member}: From: is {msg['From']!r}, not the list address {demo.list_address} "
            "(DMARC munge_from)"
        )
    if not msg["Message-ID-Hash"]:
        found.append(f"{member}: no Message-ID-Hash header (did Mailman distribute it?)")
    return found


def check() -> None:
    demo = Demo.load()
    try:
        last = json.loads(LAST_POST.read_text())
    except OSError as exc:
        raise DemoError(f"{LAST_POST} is missing: run make demo first") from exc
    server = standin()
    password = Demo.secret("outside")
    problems: list[str] = []
    hashes = set()
    for member, _name in demo.members:
        copies = mailbox(server, member, password, last["message_id"])
        problems += problems_with_copy(demo, member, copies)
        hashes.update(str(c["Message-ID-Hash"]) for c in copies if c["Message-ID-Hash"])
        if copies:
            say(f"check: {member} has the post, From: {copies[-1]['From']}, List-Id ok")
    archive = f"/hyperkitty/list/{demo.list_address}/"
    for path in ("/postorius/lists/", archive):
        status = web_status(demo.fqdn, path)
        if status != 200:
            problems.append(f"https://{demo.fqdn}:{WEB_PORT}{path} answered {status}, not 200")
        else:
            say(f"check: https://{demo.fqdn}:{WEB_PORT}{path} answers 200")
    for message_hash in sorted(hashes):
        page = f"{archive}message/{message_hash}/"
        deadline = time.monotonic() + ARCHIVE_TIMEOUT
        while (status := web_status(demo.fqdn, page)) != 200 and time.monotonic() < deadline:
            time.sleep(3)
        if status != 200:
            problems.append(f"the post's archive page {page} answered {status}, not 200")
        else:
            say(f"check: the post is archived at {page}")
    if problems:
        raise DemoError(
            "the demo check failed:\n  "
            + "\n  ".join(problems)
            + "\n"
            + diagnose(demo, server, last["message_id"])
        )
    say("check passed: every member has the post, munged From:, List-Id; archive answers")


# Summary and removal ------------------------------------------------------------------------


def summary(demo: Demo, began: float) -> None:
    url = f"https://127.0.0.1:{WEB_PORT}"
    print(
        f"""
The demo is up ({took(began)}).
  Web UI   {url}/   (self-signed certificate: accept it once)
           the same site as https://{demo.fqdn}:{WEB_PORT}/ given "127.0.0.1 {demo.fqdn}"
           in /etc/hosts; from another machine: ssh -L {WEB_PORT}:127.0.0.1:{WEB_PORT} <this host>
  Login    {demo.admin_user} / {Demo.secret("admin")}
  Archive  {url}/hyperkitty/list/{demo.list_address}/
  Mail     make demo-mail    the copies in each member's mailbox at the stand-in
           make demo-post    post again (as {demo.members[0][0]}) and wait for the copies
  Remove   make demo-clean   the hosts, the network and {DEMO_DIR}
""",
        flush=True,
    )


def clean() -> None:
    began = time.monotonic()
    if run(["molecule", "--version"], check=False).returncode == 0:
        step("destroy", molecule("destroy"), env=CONTROLLER_ONLY)
    for host in HOSTS:
        hosts.podman("rm", "--force", "--time", "5", host, check=False)
    if run(["podman", "network", "exists", NETWORK], check=False).returncode == 0:
        hosts.podman("network", "rm", NETWORK)
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    shutil.rmtree(OLD_SECRETS, ignore_errors=True)
    say(f"removed {', '.join(HOSTS)}, the network {NETWORK} and {DEMO_DIR} ({took(began)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command_up = commands.add_parser("up", help="bring the demo up, post, print where to look")
    command_up.add_argument(
        "--unchanged", action="store_true", help="fail unless the deploy changed nothing"
    )
    command_up.add_argument(
        "--collection", type=Path, help="deploy from this collection artifact, installed apart"
    )
    for name, text in (
        ("post", "post once and wait for the copies"),
        ("mail", "list the copies in the members' mailboxes"),
        ("check", "check the last post's copies and the archive"),
        ("clean", "remove everything the demo created"),
    ):
        commands.add_parser(name, help=text)
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up(args.unchanged, args.collection)
        elif args.command == "post":
            post(Demo.load())
        elif args.command == "mail":
            mail()
        elif args.command == "check":
            check()
        else:
            clean()
    except (DemoError, LabError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"demo: {' '.join(exc.cmd)} failed (exit {exc.returncode}):\n{exc.stderr}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
