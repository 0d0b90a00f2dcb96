# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Long rosters through Mailman core's own Python API, on the list server.

Mailman's REST API reads a roster a member at a time on the server's side and
subscribes one member per request, each its own workflow and transaction: for
thousands of members, minutes. Given Mailman's configuration file, the module
runs ``SCRIPT`` instead, once for every list of the run, as Mailman's user with
Mailman's interpreter. It reads the rosters in one query, and subscribes as the
REST API's workflow does when every step is pre-approved: the same rows (the
address, verified; its user; the member with its preferences) and the same
refusals (the list's posting address, a pending request, a ban), without the
workflow's thirty queries a member and without its SubscriptionEvent, whose
only handler mails the welcome and the owners' notice this module never sends.
It commits every ``COMMIT_EVERY`` members, so an interrupted import keeps what
it did and the next run subscribes the rest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Runs on the list server; the request on stdin, the answer on stdout (JSON).
SCRIPT = r"""
import json, sys, uuid
from mailman.core.initialize import initialize
initialize(sys.argv[1])
from mailman.config import config
from mailman.interfaces.bans import IBanManager
from mailman.interfaces.listmanager import IListManager
from mailman.interfaces.member import MemberRole
from mailman.interfaces.pending import IPendings
from mailman.model.address import Address
from mailman.model.bans import Ban
from mailman.model.member import Member
from mailman.model.preferences import Preferences
from mailman.model.user import User
from mailman.utilities.datetime import now
from sqlalchemy import or_
from sqlalchemy.orm import aliased
from zope.component import getUtility

ROLES = {"owner": MemberRole.owner, "moderator": MemberRole.moderator,
         "member": MemberRole.member}
request = json.load(sys.stdin)
answer = {"rosters": {}, "subscribed": 0, "failures": []}

if request.get("read"):
    direct, preferred = aliased(Address), aliased(Address)
    rows = (config.db.store.query(Member.list_id, Member.role, Member._member_id,
                                  direct.email, preferred.email)
            .outerjoin(direct, Member.address_id == direct.id)
            .outerjoin(User, Member.user_id == User.id)
            .outerjoin(preferred, User._preferred_address_id == preferred.id)
            .filter(Member.list_id.in_(request["read"]),
                    Member.role.in_(list(ROLES.values()))))
    for list_id in request["read"]:
        answer["rosters"][list_id] = {role: [] for role in ROLES}
    for list_id, role, member_id, email, preferred_email in rows:
        answer["rosters"][list_id][role.name].append(
            [email or preferred_email, uuid.UUID(str(member_id)).hex])

lists = getUtility(IListManager)
store = config.db.store
for list_id, people in request.get("subscribe", {}).items():
    mlist = lists.get_by_list_id(list_id)
    if mlist is None:
        answer["failures"].append(list_id + ": no such list")
        continue
    keys = sorted({email.lower() for email, _ in people})
    known = {}
    for start in range(0, len(keys), 1000):
        for address in store.query(Address).filter(Address.email.in_(keys[start:start + 1000])):
            known[address.email] = address
    present = {row[0] for row in (
        store.query(Address.email).join(Member, Member.address_id == Address.id)
        .filter(Member.list_id == list_id, Member.role == MemberRole.member))}
    present |= {row[0] for row in (
        store.query(Address.email).join(User, User._preferred_address_id == Address.id)
        .join(Member, Member.user_id == User.id)
        .filter(Member.list_id == list_id, Member.role == MemberRole.member))}
    pending = {str(pendable.get("email", "")).lower() for _, pendable in
               getUtility(IPendings).find(mlist=mlist, pend_type="subscription")}
    bans = IBanManager(mlist) if store.query(Ban).filter(
        or_(Ban.list_id == list_id, Ban.list_id.is_(None))).count() else None
    with store.no_autoflush:
        for email, display_name in people:
            key = email.lower()
            if key in present:
                continue
            refused = (
                "the list's posting address cannot subscribe" if key == mlist.posting_address
                else "a subscription request is pending (approve or discard it)"
                if key in pending
                else "the address is banned" if bans is not None and bans.is_banned(key)
                else None)
            if refused:
                answer["failures"].append("member %s: %s" % (email, refused))
                continue
            address = known.get(key)
            if address is None:
                try:
                    address = Address(email, display_name)
                except Exception as error:
                    answer["failures"].append("member %s: %s" % (email, error))
                    continue
                address.preferences = Preferences()
                store.add(address)
                known[key] = address
            if address.user is None:
                user = User(address.display_name, Preferences())
                user.link(address)
                store.add(user)
            if address.verified_on is None:
                address.verified_on = now()
            member = Member(role=MemberRole.member, list_id=list_id, subscriber=address)
            member.preferences = Preferences()
            store.add(member)
            present.add(key)
            answer["subscribed"] += 1
            if answer["subscribed"] % request["commit_every"] == 0:
                config.db.commit()
config.db.commit()
json.dump(answer, sys.stdout)
"""

COMMIT_EVERY = 500

# (argv, stdin) -> (rc, stdout, stderr): AnsibleModule.run_command's shape.
Runner = Callable[[list[str], str], tuple[int, str, str]]


class DirectError(Exception):
    """The script could not run, or Mailman refused."""


def interpreter(mailman: Path = Path("/usr/bin/mailman")) -> str:
    """The Python that runs Mailman: its command's interpreter line."""
    try:
        first = mailman.read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        raise DirectError(f"{mailman} not found: Mailman core is not installed here") from None
    if not first.startswith("#!"):
        raise DirectError(f"{mailman} has no interpreter line")
    return first[2:].strip().split()[0]


class DirectMailman:
    """Runs SCRIPT as ``user`` against the configuration file ``config``."""

    def __init__(self, config: str, user: str, run: Runner, python: str | None = None) -> None:
        self.config = config
        self.user = user
        self.run = run
        self.python = python or interpreter()

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        argv = ["runuser", "-u", self.user, "--", self.python, "-c", SCRIPT, self.config]
        rc, out, err = self.run(argv, json.dumps(dict(request, commit_every=COMMIT_EVERY)))
        if rc != 0:
            last = (err.strip().splitlines() or ["no output"])[-1]
            raise DirectError(f"Mailman's Python API (as {self.user}): {last}")
        try:
            answer: dict[str, Any] = json.loads(out)
        except ValueError:
            raise DirectError(f"Mailman's Python API answered: {out.strip()[:200]}") from None
        return answer

    def rosters(self, list_ids: Sequence[str]) -> dict[str, dict[str, list[list[str]]]]:
        """Each list's memberships by role: [address, member id (hex)]."""
        rosters: dict[str, dict[str, list[list[str]]]] = self.call({"read": list(list_ids)})[
            "rosters"
        ]
        return rosters

    def subscribe(self, people: dict[str, list[tuple[str, str]]]) -> int:
        """Subscribe members (list id -> [(address, display name)]); the number subscribed."""
        answer = self.call({"subscribe": people})
        if answer["failures"]:
            failures: list[str] = answer["failures"]
            total = sum(len(p) for p in people.values())
            shown = "; ".join(sorted(failures)[:5])
            raise DirectError(f"{len(failures)} of {total} subscriptions failed: {shown}")
        subscribed: int = answer["subscribed"]
        return subscribed


def from_module(module: Any) -> DirectMailman | None:
    """The direct path an AnsibleModule's parameters ask for; None for the REST API alone.

    Only root can run Mailman's Python as Mailman's user, and only where Mailman
    is configured (not yet, in a check run on a new host): else the REST API.
    """
    config = module.params.get("mailman_config")
    if not config or os.geteuid() != 0 or not os.path.exists(config):
        return None

    def run(argv: list[str], data: str) -> tuple[int, str, str]:
        rc, out, err = module.run_command(argv, data=data, binary_data=True)
        return int(rc), str(out), str(err)

    return DirectMailman(str(config), module.params["mailman_user"], run)
