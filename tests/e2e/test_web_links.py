"""Links in the copies members receive lead to the web UI (issue 13, item 1)."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlsplit

import testinfra
from conftest import World, run_python

LIST = "team@lab.test"

# From the list server, trusting only pebble's current root, as a member's
# browser trusts only the public CA.
HTTPS_GET = """
import json, os, ssl, urllib.error, urllib.request
lab = ssl.create_default_context(cafile="/etc/ssl/lab/pebble-listener-ca.pem")
root = urllib.request.urlopen("https://acme.e2e.lab.test:15000/roots/0", context=lab).read()
ctx = ssl.create_default_context(cadata=root.decode())
try:
    with urllib.request.urlopen(os.environ["URL"], context=ctx, timeout=30) as r:
        print(json.dumps({"status": r.status, "body": r.read().decode("utf-8", "replace")}))
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code, "body": ""}))
"""


def bracketed_url(header: object) -> str:
    match = re.search(r"<(https?://[^>]+)>", str(header))
    assert match, f"no URL in {header!r}"
    return match.group(1)


def test_archive_links_of_a_received_copy_lead_to_the_message_over_https(
    world: World, host: testinfra.host.Host, token: str
) -> None:
    fqdn = host.backend.get_hostname()
    subject = f"Archive link probe {token}"
    msg = EmailMessage()
    msg["From"] = "Alice <alice@outside.test>"
    msg["To"] = LIST
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="outside.test")
    msg.set_content(f"Where is this archived? {token}\n")
    world.post(msg)

    copy = world.expect("bjorn@outside.test", token)[0]
    list_archive = bracketed_url(copy["List-Archive"])
    archived_at = bracketed_url(copy["Archived-At"])
    for name, url in (("List-Archive", list_archive), ("Archived-At", archived_at)):
        assert urlsplit(url).scheme == "https", f"{name}: {url}"
        assert urlsplit(url).hostname == fqdn, f"{name}: {url} does not name the web UI {fqdn}"

    listing = run_python(host, HTTPS_GET, URL=list_archive)
    assert listing["status"] == 200, list_archive
    # The copy leaves before HyperKitty has stored the post; give it time.
    deadline = time.monotonic() + 120
    page = run_python(host, HTTPS_GET, URL=archived_at)
    while page["status"] != 200 and time.monotonic() < deadline:
        time.sleep(3)
        page = run_python(host, HTTPS_GET, URL=archived_at)
    assert page["status"] == 200, f"{archived_at} answered {page['status']}"
    assert subject in page["body"]
