"""Behaviour of a converged list server (run on Debian 12 and 13)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import testinfra
import yaml
from conftest import SCENARIO, run_python
from labkit.hosts import rest

# Fetches pebble's current root (it changes at every pebble start) and opens
# the web UI with it as the only trust anchor.
HTTPS = """
import json, os, ssl, urllib.request, urllib.error, http.cookiejar, re, urllib.parse
lab = ssl.create_default_context(cafile="/etc/ssl/lab/pebble-listener-ca.pem")
root = urllib.request.urlopen("https://acme.default.lab.test:15000/roots/0", context=lab).read()
ctx = ssl.create_default_context(cadata=root.decode())
base = "https://" + os.environ["FQDN"]
out = {}
with ctx.wrap_socket(__import__("socket").create_connection((os.environ["FQDN"], 443)),
                     server_hostname=os.environ["FQDN"]) as s:
    cert = s.getpeercert()
out["san"] = [v for k, v in cert["subjectAltName"]]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                     urllib.request.HTTPCookieProcessor(jar))
page = opener.open(base + "/accounts/login/")
out["hsts"] = page.headers.get("Strict-Transport-Security")
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode()).group(1)
form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": os.environ["USER"],
                               "password": os.environ["PW"]}).encode()
req = urllib.request.Request(base + "/accounts/login/", data=form,
                             headers={"Referer": base + "/accounts/login/"})
resp = opener.open(req)
out["after_login"] = resp.geturl()
out["logged_in"] = any(c.name == "sessionid" for c in jar)
admin = opener.open(base + "/admin/")
out["admin_status"] = admin.status
out["admin_page_is_login"] = "/admin/login/" in admin.geturl()
print(json.dumps(out))
"""

REDIRECT = """
import http.client, json, os
c = http.client.HTTPConnection(os.environ["FQDN"], 80, timeout=10)
c.request("GET", "/postorius/lists/")
r = c.getresponse()
print(json.dumps({"status": r.status, "location": r.getheader("Location")}))
"""

LMTP_POST = """
import json, os, smtplib
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "alice@outside.test"
m["To"] = "team@lab.test"
m["Subject"] = "Archive probe " + os.environ["WORD"]
m["Message-ID"] = "<" + os.environ["WORD"] + "@outside.test>"
m.set_content("This post carries the word " + os.environ["WORD"] + ".")
with smtplib.LMTP("127.0.0.1", 8024) as s:
    refused = s.send_message(m)
print(json.dumps({"refused": list(refused)}))
"""

SEARCH = """
import json, os, urllib.request
req = urllib.request.Request("http://127.0.0.1:8000/hyperkitty/search?q=" + os.environ["WORD"],
                             headers={"Host": os.environ["FQDN"]})
body = urllib.request.urlopen(req, timeout=20).read().decode()
print(json.dumps({"found": ("Archive probe " + os.environ["WORD"]) in body}))
"""


# What a roster subscribed by Mailman's own Python API looks like through REST.
LONG_ROSTER = """
import base64, json, os, urllib.request
token = base64.b64encode(("restadmin:" + os.environ["PW"]).encode()).decode()
def get(path):
    request = urllib.request.Request("http://127.0.0.1:8001/3.1" + path,
                                     headers={"Authorization": "Basic " + token})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)
members = get("/lists/roster.lab.test/roster/member")["entries"]
address = get("/addresses/reader7@outside.test")
user = get(address["user"].split("/3.1", 1)[1])
print(json.dumps({
    "members": {m["email"]: m.get("display_name", "") for m in members},
    "as_address": sorted({m["subscription_mode"] for m in members}),
    "verified": address.get("verified_on") is not None,
    "user_name": user.get("display_name"),
}))
"""

# Postfix's word on every delivery it tried, and its queue.
POSTFIX_DELIVERIES = (
    "journalctl --no-pager -q -o cat SYSLOG_IDENTIFIER=postfix/smtp "
    "SYSLOG_IDENTIFIER=postfix/error SYSLOG_IDENTIFIER=postfix/lmtp; postqueue -p"
)


@pytest.mark.parametrize("unit", ["postgresql", "postfix", "mailman3", "mailman3-web", "nginx"])
def test_service_is_running_and_enabled(host: testinfra.host.Host, unit: str) -> None:
    service = host.service(unit)
    assert service.is_running, host.run(f"journalctl -u {unit} -n 30 --no-pager").stdout
    assert service.is_enabled


def test_rest_api_answers_only_with_credentials(
    host: testinfra.host.Host, lab_vars: dict[str, Any]
) -> None:
    assert rest(host, "/system/versions")["status"] == 401
    assert rest(host, "/system/versions", "wrong password")["status"] == 401
    answer = rest(host, "/system/versions", lab_vars["vault_mailman_rest_password"])
    assert answer["status"] == 200
    assert answer["body"]["mailman_version"].startswith("GNU Mailman 3.3")


def test_rest_and_lmtp_listen_on_loopback_only(host: testinfra.host.Host) -> None:
    for port in (8001, 8024, 8000, 5432):
        sockets = host.socket.get_listening_sockets()
        bound = [s for s in sockets if s.endswith(f":{port}") and s.startswith("tcp://")]
        assert bound, f"nothing listens on {port}"
        assert all("127.0.0.1" in s or "::1" in s for s in bound), bound


def test_site_delivery_settings(host: testinfra.host.Host, lab_vars: dict[str, Any]) -> None:
    mta = rest(host, "/system/configuration/mta", lab_vars["vault_mailman_rest_password"])["body"]
    assert mta["verp_personalized_deliveries"] == "no"
    assert mta["verp_probes"] == "no"
    assert mta["verp_confirmations"] == "no"
    assert mta["verp_delivery_interval"] == "0"
    # Mailman VERPs -owner mail whatever verp_* says; the plain -bounces
    # sender keeps it inside the mailbox's aliases (no Sender Mismatch).
    assert mta["verp_format"] == "${bounces}"
    assert int(mta["max_recipients"]) <= 100
    mailman = rest(host, "/system/configuration/mailman", lab_vars["vault_mailman_rest_password"])
    # The client's group_vars/all value, not the wiring's listserver_admin_email.
    overrides = yaml.safe_load((SCENARIO / "group_vars/all/client_overrides.yml").read_text())
    assert overrides["mailman_core_site_owner"] != lab_vars["listserver_admin_email"]
    assert mailman["body"]["site_owner"] == overrides["mailman_core_site_owner"]


@pytest.mark.parametrize("name", ["team", "announce"])
def test_lists_match_the_inventory(
    host: testinfra.host.Host, lab_vars: dict[str, Any], name: str
) -> None:
    password = lab_vars["vault_mailman_rest_password"]
    wanted = next(x for x in lab_vars["listserver_lists"] if x["name"] == name)
    config = rest(host, f"/lists/{name}.lab.test/config", password)
    assert config["status"] == 200
    body = config["body"]
    assert body["dmarc_mitigate_action"] == "munge_from"
    assert body["dmarc_mitigate_unconditionally"] is True
    assert body["first_strip_reply_to"] is True
    expected_reply = wanted.get("settings", {}).get("reply_goes_to_list", "point_to_list")
    assert body["reply_goes_to_list"] == expected_reply
    assert body["description"] == wanted["description"]
    for key, value in wanted.get("settings", {}).items():
        assert body[key] == value
    owners = rest(host, f"/lists/{name}.lab.test/roster/owner", password)["body"]
    assert sorted(e["email"] for e in owners.get("entries", [])) == sorted(wanted["owners"])


def test_a_long_roster_is_subscribed_as_the_rest_api_would_without_mail(
    host: testinfra.host.Host, lab_vars: dict[str, Any]
) -> None:
    found = run_python(host, LONG_ROSTER, PW=lab_vars["vault_mailman_rest_password"])
    wanted = {f"reader{n}@outside.test": f"Zoë Reader {n}" for n in range(150)}
    # bjorn was on team already: his address and name are kept, not replaced.
    assert found["members"] == {**wanted, "bjorn@outside.test": "Björn Ærø"}
    assert found["as_address"] == ["as_address"]
    assert found["verified"] is True
    assert found["user_name"] == "Zoë Reader 7"
    # No welcome went out for the import (the list's send_welcome_message is on).
    assert "reader7@outside.test" not in host.run(POSTFIX_DELIVERIES).stdout


def test_members_keep_their_non_ascii_names(
    host: testinfra.host.Host, lab_vars: dict[str, Any]
) -> None:
    password = lab_vars["vault_mailman_rest_password"]
    roster = rest(host, "/lists/team.lab.test/roster/member", password)
    names = {e["email"]: e.get("display_name") for e in roster["body"]["entries"]}
    assert names["bjorn@outside.test"] == "Björn Ærø"
    assert "alice@outside.test" in names


def test_http_redirects_to_https(host: testinfra.host.Host, fqdn: str) -> None:
    answer = run_python(host, REDIRECT, FQDN=fqdn)
    assert answer["status"] in (301, 308)
    assert answer["location"] == f"https://{fqdn}/postorius/lists/"


def test_https_certificate_from_test_ca_and_superuser_login(
    host: testinfra.host.Host, lab_vars: dict[str, Any], fqdn: str
) -> None:
    answer = run_python(
        host,
        HTTPS,
        FQDN=fqdn,
        USER=lab_vars["listserver_admin_user"],
        PW=lab_vars["vault_web_admin_password"],
    )
    assert fqdn in answer["san"]
    assert "max-age=" in (answer["hsts"] or "")
    assert answer["logged_in"], answer
    assert answer["admin_status"] == 200
    assert not answer["admin_page_is_login"], "the superuser is not staff in Django admin"


def test_lmtp_post_is_archived_and_searchable(host: testinfra.host.Host, fqdn: str) -> None:
    word = "probe" + uuid.uuid4().hex[:12]
    assert run_python(host, LMTP_POST, WORD=word)["refused"] == []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if run_python(host, SEARCH, WORD=word, FQDN=fqdn)["found"]:
            return
        time.sleep(3)
    log = host.run("tail -n 30 /var/log/mailman3/mailman.log /var/log/mailman3/web/mailman-web.log")
    pytest.fail(f"post {word} never showed up in the archive search\n{log.stdout}")


@pytest.mark.parametrize(
    "path",
    [
        "/etc/mailman3/mailman.cfg",
        "/etc/mailman3/mailman-web.py",
        "/etc/mailman3/mailman-hyperkitty.cfg",
    ],
)
def test_secret_files_are_not_world_readable(host: testinfra.host.Host, path: str) -> None:
    assert host.file(path).mode & 0o007 == 0


def test_no_secret_in_any_world_readable_file(
    host: testinfra.host.Host, lab_vars: dict[str, Any]
) -> None:
    secrets = [v for k, v in lab_vars.items() if k.startswith("vault_")]
    for secret in secrets:
        found = host.run(
            "find /etc /var/lib/mailman3 /usr/local /var/log -xdev -type f -perm -o=r "
            "-exec grep -lF -e %s {} +",
            secret,
        )
        assert found.stdout.strip() == "", f"a secret is readable by anyone in {found.stdout}"


def test_no_plaintext_credentials_left_by_dbconfig(host: testinfra.host.Host) -> None:
    for name in ("mailman3", "mailman3-web"):
        assert not host.file(f"/etc/dbconfig-common/{name}.conf").exists
