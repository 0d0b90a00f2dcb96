"""Read or set the state mailman3-web needs: migrations, site, superuser.

Run by the mailman_web role inside `manage.py shell`; values come from the
environment, the superuser's password from stdin (an environment is readable
by every process of the same user), so no secret is ever part of a command
line. LISTSERVER_MODE says what to do:

- probe: read only. Asks Django's migration executor for the plan that
  `manage.py migrate --check` computes; with no migration pending, compares
  the site, the mail domains and the superuser (row in the users table,
  flags, password, verified address) with the wanted values, writing nothing.
- check: the bootstrap without writing (Ansible's check mode).
- apply: the bootstrap.

Prints one JSON object: {"migrations_pending": [...], "changed": bool,
"changes": [...]}; "changes" names what the bootstrap sets (or would set).
"""

import json
import os
import sys

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor

env = os.environ
mode = env.get("LISTSERVER_MODE", "apply")
if mode not in ("probe", "check", "apply"):
    sys.exit(f"LISTSERVER_MODE must be probe, check or apply, not {mode!r}")
dry_run = mode != "apply"


def pending_migrations() -> list[str]:
    """The migrations `migrate` would apply, as app.name strings (reads only)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def bootstrap(password: str) -> list[str]:
    """What the bootstrap changes; with dry_run, what it would change."""
    # Imported here: with migrations pending, a probe must not touch tables
    # that may not exist yet.
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password
    from django.contrib.sites.models import Site
    from django_mailman3.models import MailDomain

    changes = []
    with transaction.atomic():
        site = Site.objects.get(pk=1)
        wanted_site = (env["LISTSERVER_SITE_DOMAIN"], env["LISTSERVER_SITE_NAME"])
        if (site.domain, site.name) != wanted_site:
            site.domain, site.name = wanted_site
            changes.append("site")
            if not dry_run:
                site.save()

        # HyperKitty names the archive's host in List-Archive: and Archived-At:
        # from this table, and falls back to the mail domain itself when the
        # domain has no row (domains created through the REST API get none).
        for mail_domain in json.loads(env["LISTSERVER_MAIL_DOMAINS"]):
            row = MailDomain.objects.filter(mail_domain=mail_domain).first()
            if row is None or row.site_id != site.pk:
                changes.append(f"mail domain {mail_domain}")
                if not dry_run:
                    MailDomain.objects.update_or_create(
                        mail_domain=mail_domain, defaults={"site": site}
                    )

        User = get_user_model()
        name = env["LISTSERVER_SUPERUSER_NAME"]
        email = env["LISTSERVER_SUPERUSER_EMAIL"]
        user = User.objects.filter(username=name).first()
        if user is None:
            changes.append("superuser created")
            if not dry_run:
                user = User.objects.create_superuser(name, email, password)
        else:
            user_changes = []
            wanted = {"email": email, "is_superuser": True, "is_staff": True, "is_active": True}
            for field, value in wanted.items():
                if getattr(user, field) != value:
                    setattr(user, field, value)
                    user_changes.append(f"superuser {field}")
            # Not user.check_password(): it would save a rehashed password when
            # Django's hasher settings changed, a write the probe must not do.
            if not check_password(password, user.password):
                user.set_password(password)
                user_changes.append("superuser password")
            if user_changes and not dry_run:
                user.save()
            changes += user_changes

        # A verified primary address lets the administrator log in without the
        # confirmation mail round trip.
        if user is not None:
            address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
            if address is None or not (address.verified and address.primary):
                changes.append("superuser address verified")
                if not dry_run:
                    EmailAddress.objects.filter(user=user).exclude(email__iexact=email).update(
                        primary=False
                    )
                    EmailAddress.objects.update_or_create(
                        user=user, email=email, defaults={"verified": True, "primary": True}
                    )
    return changes


pending = pending_migrations() if mode == "probe" else []
changes = [] if pending else bootstrap(sys.stdin.read())
print(json.dumps({"migrations_pending": pending, "changed": bool(changes), "changes": changes}))
