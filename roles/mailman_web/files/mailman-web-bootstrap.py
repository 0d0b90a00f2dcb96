"""Set the Django site and the superuser of mailman3-web, idempotently.

Run by the mailman_web role inside `manage.py shell`; values come from the
environment so no secret is ever part of a command line. Prints one JSON
object: {"changed": bool, "changes": [...]}.
"""

import json
import os

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.db import transaction

env = os.environ
check_mode = env.get("LISTSERVER_CHECK_MODE") == "1"
changes = []

with transaction.atomic():
    site = Site.objects.get(pk=1)
    if (site.domain, site.name) != (env["LISTSERVER_SITE_DOMAIN"], env["LISTSERVER_SITE_NAME"]):
        site.domain = env["LISTSERVER_SITE_DOMAIN"]
        site.name = env["LISTSERVER_SITE_NAME"]
        changes.append("site")
        if not check_mode:
            site.save()

    User = get_user_model()
    name = env["LISTSERVER_SUPERUSER_NAME"]
    email = env["LISTSERVER_SUPERUSER_EMAIL"]
    password = env["LISTSERVER_SUPERUSER_PASSWORD"]
    user = User.objects.filter(username=name).first()
    if user is None:
        changes.append("superuser created")
        if not check_mode:
            user = User.objects.create_superuser(name, email, password)
    else:
        wanted = {"email": email, "is_superuser": True, "is_staff": True, "is_active": True}
        for field, value in wanted.items():
            if getattr(user, field) != value:
                setattr(user, field, value)
                changes.append(f"superuser {field}")
        if not user.check_password(password):
            user.set_password(password)
            changes.append("superuser password")
        if changes and not check_mode:
            user.save()

    # A verified primary address lets the administrator log in without the
    # confirmation mail round trip.
    if user is not None:
        address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
        if address is None or not (address.verified and address.primary):
            changes.append("superuser address verified")
            if not check_mode:
                EmailAddress.objects.filter(user=user).exclude(email__iexact=email).update(
                    primary=False
                )
                EmailAddress.objects.update_or_create(
                    user=user, email=email, defaults={"verified": True, "primary": True}
                )

print(json.dumps({"changed": bool(changes), "changes": changes}))
