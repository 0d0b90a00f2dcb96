"""Fill a guide-built server's Mailman core as its owners would have over the years.

Runs on the server (Debian 11: python3-mailmanclient 3.3) against Mailman's REST API, as
root. Idempotent: what exists is left alone. Prints what it made, as JSON.
Two lists, 500 members (some non-ASCII names, some in digest mode, some with their own
preferences, some with a second address they prefer), an owner and a moderator, one
held message, one pending subscription.
"""

from __future__ import annotations

import configparser
import json
import subprocess
import sys
import tempfile
import time
from typing import Any
from urllib.error import HTTPError

from mailmanclient import Client
from mailmanclient.restbase.connection import MailmanConnectionError

DOMAIN = "lab.test"
MEMBERS = "outside.test"
NAMES = ["Zoë Müller", "Jürgen Groß", "李雷", "Ólafur Þór", "Anna Smith", "Chloé Lefèvre"]
LISTS = {
    "team": {
        "description": "The team's discussions",
        "subject_prefix": "[team] ",
        "max_message_size": 512,
        "members": range(0, 250),
    },
    "announce": {
        "description": "Announcements (moderated subscriptions)",
        "subject_prefix": "[Announce] ",
        "max_message_size": 1024,
        "members": range(250, 500),
    },
}
# What the guide has its readers set by hand in Postorius.
GUIDE_SETTINGS = {
    "dmarc_mitigate_action": "munge_from",
    "reply_goes_to_list": "point_to_list",
    "first_strip_reply_to": True,
    "send_welcome_message": False,
    "admin_immed_notify": False,
}


def rest_client() -> Client:
    config = configparser.ConfigParser(interpolation=None)
    config.read("/etc/mailman3/mailman.cfg")
    service = config["webservice"]
    client = Client(
        f"http://{service['hostname']}:{service['port']}/3.1",
        service["admin_user"],
        service["admin_pass"],
    )
    # Mailman may have just been restarted: its REST API answers a few seconds later.
    for _ in range(90):
        try:
            client.system  # noqa: B018 (a request)
        except MailmanConnectionError:
            time.sleep(1)
        else:
            return client
    sys.exit("Mailman's REST API never answered")


def member_address(number: int) -> tuple[str, str]:
    name = f"{NAMES[number % len(NAMES)]} {number:03d}"
    return f"m{number:03d}@{MEMBERS}", name


def populate(client: Client) -> dict[str, int]:
    made = {"domains": 0, "lists": 0, "members": 0, "preferred": 0, "held": 0, "pending": 0}
    try:
        domain = client.get_domain(DOMAIN)
    except HTTPError:
        domain = client.create_domain(DOMAIN)
        made["domains"] += 1
    for name, spec in LISTS.items():
        fqdn = f"{name}@{DOMAIN}"
        try:
            mlist = client.get_list(fqdn)
        except HTTPError:
            mlist = domain.create_list(name)
            made["lists"] += 1
        settings = mlist.settings
        wanted = {
            **GUIDE_SETTINGS,
            "description": spec["description"],
            "subject_prefix": spec["subject_prefix"],
            "max_message_size": spec["max_message_size"],
        }
        if any(settings[key] != value for key, value in wanted.items()):
            for key, value in wanted.items():
                settings[key] = value
            settings.save()
        if f"admin@{DOMAIN}" not in [o.email for o in mlist.owners]:
            mlist.add_owner(f"admin@{DOMAIN}")
        if name == "team" and f"mod@{MEMBERS}" not in [m.email for m in mlist.moderators]:
            mlist.add_moderator(f"mod@{MEMBERS}")
        present = {m.email for m in mlist.members}
        for number in spec["members"]:
            address, display = member_address(number)
            if address in present:
                continue
            member = mlist.subscribe(
                address, display, pre_verified=True, pre_confirmed=True, pre_approved=True
            )
            made["members"] += 1
            preferences = member.preferences
            if name == "announce" and number % 10 == 0:
                preferences["delivery_mode"] = (
                    "mime_digests" if number % 20 == 0 else "plaintext_digests"
                )
            if number % 7 == 0:
                preferences["receive_own_postings"] = False
                preferences["acknowledge_posts"] = True
            preferences.save()
    made["preferred"] = preferred_addresses(client, range(0, 500, 25))
    made["pending"] = pending_subscription(client.get_list(f"announce@{DOMAIN}"))
    made["held"] = held_message(client.get_list(f"team@{DOMAIN}"))
    return made


def preferred_addresses(client: Client, numbers: range) -> int:
    """A second, verified address that its user prefers (a key the copy writes last)."""
    made = 0
    for number in numbers:
        address, _ = member_address(number)
        user = client.get_user(address)
        if user.preferred_address is not None:
            continue
        second = address.replace("@", ".home@")
        if second not in [a.email for a in user.addresses]:
            user.add_address(second).verify()
        user.preferred_address = second
        made += 1
    return made


def pending_subscription(mlist: Any) -> int:
    """A subscription that waits for the moderator's approval."""
    if mlist.settings["subscription_policy"] != "moderate":
        mlist.settings["subscription_policy"] = "moderate"
        mlist.settings.save()
    if any(r["email"] == f"pending@{MEMBERS}" for r in mlist.requests):
        return 0
    mlist.subscribe(f"pending@{MEMBERS}", "Pénding Person", pre_verified=True, pre_confirmed=True)
    return 1


def held_message(mlist: Any) -> int:
    """A post by a non-member, held for moderation."""
    if len(mlist.held):
        return 0
    message = (
        f"From: Stranger <stranger@{MEMBERS}>\nTo: team@{DOMAIN}\n"
        "Subject: A post from a non-member\nMessage-ID: <held-1@outside.test>\n"
        "Content-Type: text/plain; charset=utf-8\n\nPlease let this through.\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".eml", delete=False) as handle:
        handle.write(message)
    subprocess.run(["chmod", "0644", handle.name], check=True)
    subprocess.run(
        [
            "runuser",
            "-u",
            "list",
            "--",
            "mailman",
            "inject",
            "-f",
            handle.name,
            mlist.fqdn_listname,
        ],
        check=True,
    )
    for _ in range(60):
        if len(mlist.held):
            return 1
        time.sleep(1)
    sys.exit("the non-member's post was never held")


if __name__ == "__main__":
    print(json.dumps(populate(rest_client())))
