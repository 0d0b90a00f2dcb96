# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options the modules mailman_list and mailman_lists share: how they reach Mailman."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  rest_url:
    description: Base URL of the REST API.
    type: str
    default: http://127.0.0.1:8001
  rest_user:
    description: REST API user.
    type: str
    default: restadmin
  rest_password:
    description: REST API password.
    type: str
    required: true
  timeout:
    description: Timeout of one REST request, in seconds. Reading a list of
      ten thousand members takes seconds, more on a busy host.
    type: int
    default: 300
  concurrency:
    description: Subscription requests in flight at once. Mailman serves them
      with its REST workers (C(mailman_core_rest_workers)); a few in flight
      keep a single worker busy.
    type: int
    default: 4
  mailman_config:
    description:
      - Mailman core's configuration file on the host the module runs on (the
        list server), for example C(/etc/mailman3/mailman.cfg). When it is
        given and exists, and the module runs as root, the rosters are read, and
        O(bulk_threshold) or more new members subscribed, by Mailman's own
        Python API, run as O(mailman_user) in one process (seconds for ten
        thousand members, where the REST API takes minutes), committed every
        500 members.
      - The script creates what the REST API's workflow creates for a
        pre-approved subscription (the address, verified; its user; the
        member) and refuses what it refuses (the list's posting address, a
        pending request, a ban), without mail.
      - Otherwise the REST API alone.
    type: path
  mailman_user:
    description: The user Mailman runs as (the direct path runs as it).
    type: str
    default: list
  bulk_threshold:
    description: New members to one list from which they are subscribed by
      the direct path (see O(mailman_config)) rather than one REST request each.
    type: int
    default: 100
"""
