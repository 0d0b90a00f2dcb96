"""Size limits of the whole mail path, derived from the provider's one limit.

A held post reaches the list owner attached to Mailman's notice, so the
largest post the list server takes in must still fit into a notice the
provider accepts. From the provider's limit P (bytes):

- relay: P, the most any message leaving through the provider may be.
- accept: the list server's Postfix ``message_size_limit`` = P + WAY_IN: all
  the provider can deliver into the mailbox plus the headers added on the
  way in (Received, Delivered-To, Return-Path). A refusal at the intake would
  make fetchmail delete the message silently, so the intake refuses nothing
  the provider delivered.
- intake: the size gate of the intake (Postfix policy
  ``listserver-intake-policy``) = (P - NOTICE_OVERHEAD) // 78 * 57. A larger
  post is bounced to its sender instead of reaching Mailman; a post up to it
  held by Mailman gives a notice within P, even if the attached original were
  base64-encoded on the way (57 bytes become a 76-character line and CRLF).
- list_max_kb: the largest ``max_message_size`` (Mailman's unit: KB of 1024
  bytes) a list may set: intake // 1024. A larger value promises posts the
  intake bounces.
"""

from __future__ import annotations

from typing import Any

DOCUMENTATION = """
name: message_sizes
short_description: Size limits of the list server's mail path from the provider's limit
description:
  - Returns C(provider), C(relay), C(accept), C(intake) (bytes) and C(list_max_kb) derived from
    the provider's message size limit (see the module docstring for the rule).
options:
  _input:
    description: The provider's message size limit in bytes.
    type: int
    required: true
"""

EXAMPLES = """
postfix_intake_message_size_limit: "{{ (10000000 | listserver.mailman3.message_sizes).intake }}"
"""

RETURN = """
_value:
  description: provider, relay, accept, intake (bytes), list_max_kb (Mailman's KB).
  type: dict
"""

# Notice text, the moderation part, MIME headers and boundaries, and the
# headers the provider, fetchmail and Postfix add on the way (bytes).
NOTICE_OVERHEAD = 64 * 1024
# Headers the provider and fetchmail add to a delivered message (bytes).
WAY_IN = 64 * 1024
# base64 (RFC 2045): 57 bytes per line of 76 characters and CRLF.
BASE64_IN = 57
BASE64_OUT = 78
# Below this the overhead leaves no useful room for a post.
MINIMUM_PROVIDER_LIMIT = 1024 * 1024


def message_sizes(provider_limit: Any) -> dict[str, int]:
    provider = int(provider_limit)
    if provider < MINIMUM_PROVIDER_LIMIT:
        raise ValueError(
            f"the provider's message size limit must be at least {MINIMUM_PROVIDER_LIMIT} "
            f"bytes (got {provider})"
        )
    intake = (provider - NOTICE_OVERHEAD) // BASE64_OUT * BASE64_IN
    return {
        "provider": provider,
        "relay": provider,
        "accept": provider + WAY_IN,
        "intake": intake,
        "list_max_kb": intake // 1024,
    }


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"message_sizes": message_sizes}
