#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the quota_plan action plugin (plugins/action/quota_plan.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: quota_plan
short_description: Warn when the declared lists outgrow the relay's sending quota
description:
  - The provider counts every recipient against a daily quota, and the postfix
    role paces the relay to it (one recipient per delivery). One post to a list
    costs one recipient per declared member, those of its C(members_file) included.
  - Warns when one post to a list goes to more recipients than the daily quota
    allows, and when one post to each list together does. Lists with
    C(state=absent) do not count; members added by hand, outside the
    definitions, are not known here.
  - Runs on the controller and changes nothing.
version_added: "0.1.0"
author: listserver maintainers (@listserver)
options:
  lists:
    description: The list definitions, in the shape of C(mailman_lists_definitions).
    type: list
    elements: dict
    required: true
  quota_recipients:
    description: Recipients the relay may take per O(quota_window).
    type: int
    required: true
  quota_window:
    description: The quota's window, in seconds.
    type: int
    required: true
  base_dir:
    description: Directory a relative C(members_file) of a list is relative to (the inventory's).
    type: str
    default: .
attributes:
  check_mode:
    description: Can run in check mode and return the same answer.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Plan the sending quota
  listserver.mailman3.quota_plan:
    lists: "{{ mailman_lists_definitions }}"
    quota_recipients: 1440
    quota_window: 86400
"""

RETURN = r"""
daily_quota:
  description: Recipients a day the quota allows.
  returned: always
  type: int
delivery_delay:
  description: Seconds between two paced deliveries.
  returned: always
  type: int
recipients_per_post:
  description: Recipients of one post, per list address.
  returned: always
  type: dict
recipients_one_post_each:
  description: Recipients of one post to each list.
  returned: always
  type: int
"""
