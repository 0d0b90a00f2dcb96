"""The web app's side of a guide-built server: two users with their own passwords and
verified addresses, and their votes on archived posts. Runs in `manage.py shell` as
www-data on the server; the passwords come in GUIDE_USER_PASSWORDS (JSON: name to
password). Idempotent; prints what it made."""

import json
import os

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from hyperkitty.models import Email, Vote

PASSWORDS = json.loads(os.environ["GUIDE_USER_PASSWORDS"])
USERS = {"alice": "m000@outside.test", "bob": "m001@outside.test"}
made = {"users": 0, "votes": 0}
for name, address in USERS.items():
    user, created = User.objects.get_or_create(username=name, defaults={"email": address})
    if created:
        user.set_password(PASSWORDS[name])
        user.save()
        made["users"] += 1
    EmailAddress.objects.get_or_create(
        user=user, email=address, defaults={"verified": True, "primary": True}
    )
alice, bob = User.objects.get(username="alice"), User.objects.get(username="bob")
for email in Email.objects.filter(mailinglist__name="team@lab.test").order_by("date")[:20]:
    for user, value in (
        (alice, 1),
        (bob, -1 if email.message_id.endswith("5@outside.test") else 1),
    ):
        _, created = Vote.objects.get_or_create(email=email, user=user, defaults={"value": value})
        made["votes"] += int(created)
print(json.dumps(made))
