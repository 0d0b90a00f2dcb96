# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the declared lists cost against the relay's sending quota.

The provider counts every recipient against a rolling daily quota, and the
postfix role paces the relay to it: one recipient per delivery, a fixed delay
between two. A post to a list costs one recipient per member, so the plan is
arithmetic on the declared rosters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

DAY = 86400


def rate_delay(recipients: int, window: int) -> int:
    """Seconds between two paced deliveries (the postfix role's rounding)."""
    return window // recipients + 1


def members_of(definition: dict[str, Any]) -> int:
    """Recipients of one post: the declared members, each address once."""
    addresses = set()
    for member in definition.get("members") or []:
        address = member.get("address") if isinstance(member, dict) else member
        if isinstance(address, str) and address:
            # "Display Name <address>" counts by its address.
            addresses.add((parseaddr(address)[1] if "<" in address else address).lower())
    return len(addresses)


@dataclass
class QuotaPlan:
    daily_quota: int
    delay: int
    per_list: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def one_post_each(self) -> int:
        return sum(self.per_list.values())


def duration(seconds: int) -> str:
    if seconds < 2 * 3600:
        return f"{math.ceil(seconds / 60)} minutes"
    if seconds < 2 * DAY:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / DAY:.1f} days"


def plan(lists: list[dict[str, Any]], recipients: int, window: int) -> QuotaPlan:
    """The recipients one post to each present list costs, and what to warn of."""
    daily = recipients * DAY // window
    result = QuotaPlan(daily_quota=daily, delay=rate_delay(recipients, window))
    for definition in lists:
        if definition.get("state", "present") == "absent":
            continue
        address = f"{definition.get('name')}@{definition.get('domain')}"
        result.per_list[address] = members_of(definition)
    beyond = "use digests for large lists, a bigger plan or another relay"
    for address, count in result.per_list.items():
        if count > daily:
            result.warnings.append(
                f"one post to {address} goes to {count} members, more than the relay's "
                f"daily quota of {daily} recipients (postfix_quota_recipients per "
                f"postfix_quota_window): it takes {duration(count * result.delay)} to "
                f"deliver and holds back all other mail meanwhile; {beyond}."
            )
    total = result.one_post_each
    if total > daily and len(result.per_list) > 1:
        result.warnings.append(
            f"one post to each of the {len(result.per_list)} lists goes to {total} "
            f"recipients, more than the daily quota of {daily}: on such a day mail waits "
            f"in the queue for {duration(total * result.delay)} in all; {beyond}."
        )
    return result
