"""Mailman core's state as JSON, read through Mailman's own API (as `list`).

Runs on Mailman 3.3.3 (Debian 11) and 3.3.10 (Debian 13), with the services stopped
or running: what an adoption must carry over, keyed by what identifies it.
"""

from __future__ import annotations

import datetime
import enum
import json
import uuid
from typing import Any

from mailman.core.initialize import initialize

initialize("/etc/mailman3/mailman.cfg")

from mailman.interfaces.domain import IDomainManager  # noqa: E402
from mailman.interfaces.listmanager import IListManager  # noqa: E402
from mailman.interfaces.messages import IMessageStore  # noqa: E402
from mailman.interfaces.pending import IPendings  # noqa: E402
from mailman.interfaces.requests import IListRequests  # noqa: E402
from mailman.interfaces.usermanager import IUserManager  # noqa: E402
from mailman.rest.listconf import ATTRIBUTES  # noqa: E402
from zope.component import getUtility  # noqa: E402

PREFERENCES = (
    "acknowledge_posts",
    "delivery_mode",
    "delivery_status",
    "hide_address",
    "preferred_language",
    "receive_list_copy",
    "receive_own_postings",
)


def plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    code = getattr(value, "code", None)
    return code if isinstance(code, str) else str(value)


def member(m: Any) -> dict[str, Any]:
    return {
        "member_id": plain(m.member_id),
        "display_name": m.address.display_name,
        "user": m.user.display_name if m.user else None,
        "moderation_action": plain(m.moderation_action),
        "preferences": {name: plain(getattr(m.preferences, name)) for name in PREFERENCES},
    }


def mailing_list(mlist: Any) -> dict[str, Any]:
    settings = {}
    for name, attribute in ATTRIBUTES.items():
        try:
            settings[name] = plain(attribute.get(mlist, name))
        except Exception as error:  # an unreadable setting is reported, not fatal
            settings[name] = f"unreadable: {type(error).__name__}"
    store = getUtility(IMessageStore)
    held = {}
    for request in IListRequests(mlist).held_requests:
        key, data = IListRequests(mlist).get_request(request.id)
        message_id = (data or {}).get("_mod_message_id")
        stored = store.get_message_by_id(message_id) if message_id else None
        held[str(request.id)] = {
            "type": plain(request.request_type),
            "key": key,
            "subject": str(stored["subject"]) if stored is not None else None,
        }
    pendings = getUtility(IPendings)
    pending = {token: plain(dict(p)) for token, p in pendings.find(mlist=mlist)}
    return {
        "settings": settings,
        "rosters": {
            role: {m.address.email: member(m) for m in getattr(mlist, role).members}
            for role in ("members", "owners", "moderators", "nonmembers")
        },
        "held": held,
        "pending": pending,
    }


state = {
    "domains": {d.mail_host: {"description": d.description} for d in getUtility(IDomainManager)},
    "lists": {m.fqdn_listname: mailing_list(m) for m in getUtility(IListManager).mailing_lists},
    "users": {
        plain(u.user_id): {
            "display_name": u.display_name,
            "addresses": sorted(a.email for a in u.addresses),
            "preferred": u.preferred_address.email if u.preferred_address else None,
        }
        for u in getUtility(IUserManager).users
    },
}
print(json.dumps(state, sort_keys=True))
