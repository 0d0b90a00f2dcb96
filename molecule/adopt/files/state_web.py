"""The web app's state as JSON (as www-data; Debian's mailman3-web, Django 2.2 and 4.2):
users with their password hashes, HyperKitty's lists, threads, posts with their
attachments, and votes, keyed by what identifies them."""

from __future__ import annotations

import hashlib
import json
import os
import sys

import django

sys.path.insert(0, "/usr/share/mailman3-web")
os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from hyperkitty.models import Attachment, Email, MailingList, Thread, Vote  # noqa: E402


def sha(data: bytes | str | memoryview) -> str:
    return hashlib.sha256(bytes(data) if not isinstance(data, str) else data.encode()).hexdigest()


def attachment(a: Attachment) -> list[object]:
    content = a.get_content() if hasattr(a, "get_content") else a.content
    return [a.counter, a.name, a.content_type, sha(content)]


state = {
    "users": {
        u.username: {
            "email": u.email,
            "password": u.password,
            "superuser": u.is_superuser,
            "addresses": sorted(
                [e.email, e.verified, e.primary] for e in EmailAddress.objects.filter(user=u)
            ),
        }
        for u in User.objects.all()
    },
    "lists": {m.name: m.display_name for m in MailingList.objects.all()},
    "threads": {
        m.name + "/" + t.thread_id: {
            "subject": t.subject,
            "starting": t.starting_email.message_id_hash if t.starting_email else None,
        }
        for m in MailingList.objects.all()
        for t in Thread.objects.filter(mailinglist=m)
    },
    "posts": {
        e.mailinglist.name + "/" + e.message_id_hash: {
            "thread": e.thread.thread_id,
            "subject": e.subject,
            "sender": e.sender.address,
            "sender_name": e.sender_name,
            "date": e.date.isoformat(),
            "parent": e.parent.message_id_hash if e.parent_id else None,
            "content": sha(e.content),
            "attachments": sorted(attachment(a) for a in e.attachments.all()),
        }
        for e in Email.objects.select_related("mailinglist", "thread", "sender", "parent")
    },
    "votes": sorted(
        [v.user.username, v.email.message_id_hash, v.value] for v in Vote.objects.all()
    ),
}
print(json.dumps(state, sort_keys=True))
