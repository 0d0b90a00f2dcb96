#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: what a running Mailman 3 server holds, read without changing it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mailman_survey
short_description: Read what a Mailman 3 server holds, for adopting it
description:
  - Reads a running Mailman 3 server, such as one built by hand from the mail
    provider's guide on Debian 11, before it is adopted. It reads its domains, and for each
    list its settings, owners, moderators, members (by delivery mode), non-members,
    held messages and pending requests, through Mailman core's REST API; the
    HyperKitty archive (posts, threads, attachments, votes) and the web app's users
    from the web app's SQLite database, opened read-only.
  - The REST API's address and credentials come from O(mailman_cfg), so it runs
    as root on that server.
  - Only reads; it never changes the host, in check mode too.
version_added: "0.1.0"
author: listserver maintainers (@listserver)
options:
  mailman_cfg:
    description: Mailman core's configuration file (its C([webservice]) section).
    type: path
    default: /etc/mailman3/mailman.cfg
  web_db:
    description: The web app's SQLite database; empty skips the archive and the users.
    type: path
    default: /var/lib/mailman3/web/mailman3web.db
attributes:
  check_mode:
    description: Can run in check mode and return the same answer.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Survey the server to adopt
  listserver.mailman3.mailman_survey:
  become: true
  register: __adopt_survey
"""

RETURN = r"""
domains:
  description: Mail domains Mailman serves.
  returned: always
  type: list
  elements: str
  sample: [example.org]
lists:
  description: One entry per list, in the order of their addresses.
  returned: always
  type: list
  elements: dict
  sample:
    - fqdn_listname: team@example.org
      name: team
      domain: example.org
      settings: {dmarc_mitigate_action: munge_from, subject_prefix: "[team] "}
      owners: [alice@example.org]
      moderators: []
      members: 250
      delivery_modes: {regular: 240, mime_digests: 10}
      nonmembers: 1
      held: 1
      requests: 0
      archive: {posts: 150, threads: 30, attachments: 30}
web:
  description: The web app's users and their votes on archived posts.
  returned: always
  type: dict
  sample: {users: 3, votes: 40}
"""

import configparser
import json
import sqlite3
import urllib.parse
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import ConnectionError as UrlError
from ansible.module_utils.urls import open_url

PAGE = 500


class Rest:
    """Mailman core's REST API (version 3.1) with the credentials of mailman.cfg."""

    def __init__(self, mailman_cfg: str) -> None:
        config = configparser.ConfigParser(interpolation=None)
        if not config.read(mailman_cfg):
            raise OSError(f"cannot read {mailman_cfg}")
        service = config["webservice"]
        scheme = "https" if service.get("use_https", "no").lower() in ("yes", "true") else "http"
        host = service.get("hostname", "localhost")
        self.base = f"{scheme}://{host}:{service.get('port', '8001')}/3.1"
        self.user = service["admin_user"]
        self.password = service["admin_pass"]

    def get(self, path: str, **query: Any) -> dict[str, Any]:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        answer = open_url(
            url,
            url_username=self.user,
            url_password=self.password,
            force_basic_auth=True,
            timeout=60,
        )
        return json.loads(answer.read() or b"{}")

    def entries(self, path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.get(path, count=PAGE, page=page)
            found.extend(answer.get("entries", []))
            if len(found) >= answer.get("total_size", 0) or not answer.get("entries"):
                return found
            page += 1

    def total(self, path: str) -> int:
        return int(self.get(path, count=1, page=1).get("total_size", 0))


def survey_list(rest: Rest, entry: dict[str, Any]) -> dict[str, Any]:
    """Everything the module reports of one list."""
    base = f"/lists/{entry['list_id']}"
    settings = {k: v for k, v in rest.get(f"{base}/config").items() if not k.startswith("http_")}
    members = rest.entries(f"{base}/roster/member")
    modes: dict[str, int] = {}
    for member in members:
        mode = member.get("delivery_mode", "regular")
        modes[mode] = modes.get(mode, 0) + 1
    return {
        "fqdn_listname": entry["fqdn_listname"],
        "name": entry["list_name"],
        "domain": entry["mail_host"],
        "settings": settings,
        "owners": sorted(m["email"] for m in rest.entries(f"{base}/roster/owner")),
        "moderators": sorted(m["email"] for m in rest.entries(f"{base}/roster/moderator")),
        "members": len(members),
        "delivery_modes": modes,
        "nonmembers": rest.total(f"{base}/roster/nonmember"),
        "held": rest.total(f"{base}/held"),
        "requests": rest.total(f"{base}/requests"),
        "archive": {"posts": 0, "threads": 0, "attachments": 0},
    }


ARCHIVE_QUERIES = {
    "posts": "SELECT l.name, COUNT(*) FROM hyperkitty_email e"
    " JOIN hyperkitty_mailinglist l ON e.mailinglist_id = l.id GROUP BY l.name",
    "threads": "SELECT l.name, COUNT(*) FROM hyperkitty_thread t"
    " JOIN hyperkitty_mailinglist l ON t.mailinglist_id = l.id GROUP BY l.name",
    "attachments": "SELECT l.name, COUNT(*) FROM hyperkitty_attachment a"
    " JOIN hyperkitty_email e ON a.email_id = e.id"
    " JOIN hyperkitty_mailinglist l ON e.mailinglist_id = l.id GROUP BY l.name",
}


def survey_web(web_db: str, lists: list[dict[str, Any]]) -> dict[str, int]:
    """Archive counts into each list's entry; the users and votes."""
    by_name = {item["fqdn_listname"]: item for item in lists}
    uri = "file:" + urllib.parse.quote(web_db) + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        for kind, query in ARCHIVE_QUERIES.items():
            for name, count in db.execute(query):
                if name in by_name:
                    by_name[name]["archive"][kind] = count
        users = db.execute("SELECT COUNT(*) FROM auth_user").fetchone()[0]
        votes = db.execute("SELECT COUNT(*) FROM hyperkitty_vote").fetchone()[0]
    return {"users": users, "votes": votes}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "mailman_cfg": {"type": "path", "default": "/etc/mailman3/mailman.cfg"},
            "web_db": {"type": "path", "default": "/var/lib/mailman3/web/mailman3web.db"},
        },
        supports_check_mode=True,
    )
    try:
        rest = Rest(module.params["mailman_cfg"])
        domains = sorted(d["mail_host"] for d in rest.entries("/domains"))
        entries = sorted(rest.entries("/lists"), key=lambda e: e["fqdn_listname"])
        lists = [survey_list(rest, entry) for entry in entries]
    except (OSError, UrlError, KeyError, ValueError) as exc:
        module.fail_json(msg=f"cannot read Mailman core's REST API: {exc}")
    web = {"users": 0, "votes": 0}
    if module.params["web_db"]:
        try:
            web = survey_web(module.params["web_db"], lists)
        except sqlite3.Error as exc:
            module.fail_json(msg=f"cannot read the web app's database: {exc}")
    module.exit_json(changed=False, domains=domains, lists=lists, web=web)


if __name__ == "__main__":
    main()
