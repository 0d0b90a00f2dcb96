"""Load the old server's web data into this host's database (manage.py shell, as www-data).

ADOPT_FIXTURE names `manage.py dumpdata --natural-foreign` of the old server's upgraded
copy (JSON lines). This host's web tables are emptied first (`flush`, which also makes
the content types and permissions the fixture names by their natural keys), then
loaded with every model signal disconnected: HyperKitty's receivers would otherwise
recount threads, queue tasks and give each user a second profile while the rows that
already hold all of it are loaded. The cache is cleared after. Prints what is there.
"""

import json
import os

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import signals
from hyperkitty.models import Attachment, Email, Thread, Vote

for signal in (
    signals.pre_save,
    signals.post_save,
    signals.pre_delete,
    signals.post_delete,
    signals.m2m_changed,
):
    signal.receivers = []
    signal.sender_receivers_cache.clear()

call_command("flush", interactive=False, verbosity=0)
call_command("loaddata", os.environ["ADOPT_FIXTURE"], verbosity=0)
cache.clear()
print(
    json.dumps(
        {
            "users": get_user_model().objects.count(),
            "posts": Email.objects.count(),
            "threads": Thread.objects.count(),
            "attachments": Attachment.objects.count(),
            "votes": Vote.objects.count(),
        }
    )
)
