"""The host's own defences (roles/hardening, issue 16), seen from outside and inside.

The scans and the password guesses come from the ACME host, another lab host
on the same podman network, which the scenario lets in over SSH
(group_vars/all/hardening.yml). molecule's podman network has no IPv6
(molecule-plugins creates it with one IPv4 subnet), so the IPv6 half of the
rules is read back from nftables instead of scanned.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator

import pytest
import testinfra
from conftest import run_python

ACME = "acme.default.lab.test"
# Every well-known port, and the ranges the stack's own services listen in
# on the loopback: PostgreSQL, HyperKitty's archiver (8000), Mailman's REST
# API (8001) and LMTP (8024), the exporters (9100, 9154), the intake
# listener (10026), uwsgi's stats if any.
PORTS = sorted({*range(1, 1025), 5432, *range(8000, 10000), *range(10000, 10031)})
# A listener the test opens on every address of the list server: reachable
# there, so only the firewall keeps it from the scanner.
PROBE_PORT = 8081

# Runs on the scanner. ADDRESS, PORTS (JSON): the ports that accept a TCP
# connection, as JSON.
SCAN = """
import asyncio, json, os
address = os.environ["ADDRESS"]
ports = json.loads(os.environ["PORTS"])
async def probe(port, gate):
    async with gate:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), 1.5)
        except (OSError, asyncio.TimeoutError):
            return None
        writer.close()
        return port
async def main():
    gate = asyncio.Semaphore(400)
    found = await asyncio.gather(*(probe(p, gate) for p in ports))
    print(json.dumps(sorted(p for p in found if p)))
asyncio.run(main())
"""

# Runs on the scanner: ATTEMPTS sign-ins with a wrong password, each with a
# fresh CSRF token as a browser would have; prints each answer's status.
GUESS = """
import http.cookiejar, json, os, re, ssl, urllib.error, urllib.parse, urllib.request
fqdn = os.environ["FQDN"]
url = "https://" + fqdn + "/accounts/login/"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(
    urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPCookieProcessor(jar), Stay)
statuses = []
for _ in range(int(os.environ["ATTEMPTS"])):
    page = opener.open(url, timeout=20).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": "nobody-guesser",
                                   "password": "wrong password"}).encode()
    req = urllib.request.Request(url, data=form, headers={"Referer": url})
    try:
        statuses.append(opener.open(req, timeout=20).status)
    except urllib.error.HTTPError as e:
        statuses.append(e.code)
print(json.dumps(statuses))
"""

# Runs on the scanner: whether HTTPS on FQDN accepts a connection now.
REACHABLE = """
import json, os, socket
try:
    socket.create_connection((os.environ["FQDN"], 443), 3).close()
    print(json.dumps(True))
except OSError:
    print(json.dumps(False))
"""


@pytest.fixture(scope="module")
def scanner() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{ACME}")


def address_of(scanner: testinfra.host.Host, fqdn: str) -> str:
    code = "import json, os, socket; print(json.dumps(socket.gethostbyname(os.environ['N'])))"
    return str(run_python(scanner, code, N=fqdn))


@pytest.fixture
def probe_listener(host: testinfra.host.Host) -> Iterator[None]:
    unit = "listserver-test-listener"
    host.run(f"systemctl stop {unit} 2>/dev/null; systemctl reset-failed {unit} 2>/dev/null")
    started = host.run(
        f"systemd-run --unit={unit} python3 -m http.server {PROBE_PORT} --bind 0.0.0.0"
    )
    assert started.rc == 0, started.stderr
    for _ in range(50):
        if host.run(f"nc -z 127.0.0.1 {PROBE_PORT}").rc == 0:
            break
        time.sleep(0.2)
    yield
    host.run(f"systemctl stop {unit}")


def test_the_firewall_is_loaded_now_and_at_boot(host: testinfra.host.Host) -> None:
    assert host.service("nftables").is_enabled
    ruleset = json.loads(host.check_output("nft -j list chain inet listserver input"))
    chain = next(i["chain"] for i in ruleset["nftables"] if "chain" in i)
    assert chain["hook"] == "input"
    assert chain["policy"] == "drop"


@pytest.mark.usefixtures("probe_listener")
def test_a_scan_from_another_lab_host_finds_only_ssh_and_the_web(
    host: testinfra.host.Host, fqdn: str, scanner: testinfra.host.Host
) -> None:
    # The probe listener answers on the host itself: only the firewall hides it.
    assert host.run(f"nc -z {address_of(scanner, fqdn)} {PROBE_PORT}").rc == 0
    found = run_python(scanner, SCAN, ADDRESS=address_of(scanner, fqdn), PORTS=json.dumps(PORTS))
    listening = host.check_output("ss -Htlnp")
    assert found == [22, 80, 443], f"open from {ACME}: {found}; listening:\n{listening}"


def test_ipv6_rules_open_the_same_ports_and_keep_neighbour_discovery(
    host: testinfra.host.Host,
) -> None:
    rules = host.check_output("nft list chain inet listserver input")
    assert "ip6 saddr ::/0 tcp dport { 80, 443 } accept" in rules, rules
    assert "nd-neighbor-solicit" in rules, rules
    assert "nd-router-advert" in rules, rules
    assert "packet-too-big" in rules, rules
    # SSH: from the scenario's IPv4 allow-list only, no IPv6 source at all.
    assert not [line for line in rules.splitlines() if "ip6 saddr" in line and "dport 22" in line]


def test_password_guesses_on_the_sign_in_get_the_guesser_banned_until_the_ban_time_ends(
    host: testinfra.host.Host, fqdn: str, scanner: testinfra.host.Host
) -> None:
    guesser = address_of(scanner, ACME)
    attempts = 3  # hardening_fail2ban_signin_maxretry of the scenario
    assert run_python(scanner, GUESS, FQDN=fqdn, ATTEMPTS=str(attempts)) == [200] * attempts
    guessed_at = time.monotonic()
    while run_python(scanner, REACHABLE, FQDN=fqdn) and time.monotonic() < guessed_at + 20:
        time.sleep(1)
    status = host.check_output("fail2ban-client status listserver-signin")
    assert not run_python(scanner, REACHABLE, FQDN=fqdn), f"no ban after {attempts}:\n{status}"
    assert guesser in status, status
    banned_at = time.monotonic()
    # hardening_fail2ban_bantime is 30 s in the scenario.
    while not run_python(scanner, REACHABLE, FQDN=fqdn) and time.monotonic() < banned_at + 75:
        time.sleep(2)
    journal = host.check_output("journalctl -u fail2ban -n 30 --no-pager")
    assert run_python(scanner, REACHABLE, FQDN=fqdn), f"still banned:\n{journal}"
    assert time.monotonic() - guessed_at >= 25, f"the ban lifted before its time:\n{journal}"


def test_ssh_offers_public_keys_only(
    host: testinfra.host.Host, scanner: testinfra.host.Host
) -> None:
    effective = host.check_output("sshd -T")
    assert "\npasswordauthentication no\n" in effective
    assert "\nkbdinteractiveauthentication no\n" in effective
    assert "\npermitrootlogin without-password\n" in effective
    # What the running daemon offers a client that has no key.
    login = scanner.run(
        "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        f"-o ConnectTimeout=10 nobody@{shlex.quote(host.backend.get_hostname())} true"
    )
    assert "Permission denied (publickey)" in login.stderr, login.stderr


def test_security_updates_come_from_the_security_archive_only(host: testinfra.host.Host) -> None:
    codename = host.system_info.codename
    dry_run = host.run("unattended-upgrade --dry-run -d")
    assert dry_run.rc == 0, dry_run.stdout[-2000:] + dry_run.stderr[-2000:]
    origins = next(
        line
        for line in (dry_run.stdout + dry_run.stderr).splitlines()
        if "Allowed origins are:" in line
    )
    assert f"codename={codename}-security,label=Debian-Security" in origins, origins
    assert "label=Debian," not in origins + ",", origins
    config = host.check_output("apt-config dump Unattended-Upgrade APT::Periodic")
    # mailman_core_site_owner of the scenario (client_overrides.yml) wins over the wiring.
    assert 'Unattended-Upgrade::Mail "siteowner@lab.test";' in config, config
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in config, config
    assert 'APT::Periodic::Unattended-Upgrade "1";' in config, config
    assert host.service("apt-daily-upgrade.timer").is_enabled
    assert (
        "$nrconf{restart} = 'a';"
        in host.file("/etc/needrestart/conf.d/listserver.conf").content_string
    )


def test_the_journal_is_kept_on_disk_within_its_cap(host: testinfra.host.Host) -> None:
    config = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    assert "Storage=persistent" in config, config
    assert "SystemMaxUse=1G" in config, config
    usage = host.check_output("journalctl --disk-usage")
    assert host.file("/var/log/journal").is_directory, usage
    # listserver-status reads the relay's log of the quota window from here.
    assert host.run("journalctl -q --since=-1d -n 1 --no-pager").rc == 0


def test_time_sync_is_configured_and_skipped_only_for_being_a_container(
    host: testinfra.host.Host,
) -> None:
    timesyncd = host.service("systemd-timesyncd")
    assert timesyncd.is_enabled
    assert host.file("/etc/systemd/timesyncd.conf.d/listserver.conf").exists
    condition = host.check_output(
        "systemctl show systemd-timesyncd -p ConditionResult -p ActiveState"
    )
    # A lab host is a container: systemd skips the unit by its condition.
    assert timesyncd.is_running or "ConditionResult=no" in condition, condition
    assert host.check_output("systemd-detect-virt --container") != "none" or timesyncd.is_running


GREETING = """
import json, socket
with socket.create_connection(("127.0.0.1", 25), timeout=10) as s:
    print(json.dumps(s.recv(512).decode()))
"""


def test_the_mail_greeting_and_the_database_settings_give_nothing_away(
    host: testinfra.host.Host,
) -> None:
    """Lynis MAIL-8818 and DBS-1828, for what the project writes."""
    greeting = run_python(host, GREETING)
    assert greeting.startswith("220 "), greeting
    assert "ESMTP" in greeting, greeting
    assert "Postfix" not in greeting, greeting
    assert "Debian" not in greeting, greeting
    settings = host.check_output("ls /etc/postgresql/*/main/conf.d/listserver.conf")
    assert host.file(settings).mode == 0o640
