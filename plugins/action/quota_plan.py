# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin: the declared lists against the sending quota, as warnings.

Runs on the controller; the documentation is in plugins/modules/quota_plan.py.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.listserver.mailman3.plugins.filter.mailman_members_file import (
    read_members,
)
from ansible_collections.listserver.mailman3.plugins.module_utils.quota_plan import plan

SPEC = {
    "lists": {"type": "list", "elements": "dict", "required": True},
    "quota_recipients": {"type": "int", "required": True},
    "quota_window": {"type": "int", "required": True},
    "base_dir": {"type": "str", "default": "."},
}


def with_file_members(definition: dict[str, Any], base_dir: str) -> dict[str, Any]:
    """The definition with its members_file's members added (an unreadable file: none;
    the preflight reports it on its own)."""
    path = definition.get("members_file")
    if not path:
        return definition
    try:
        extra = read_members(str(path), base_dir)
    except (OSError, UnicodeDecodeError):
        extra = []
    return {**definition, "members": list(definition.get("members") or []) + extra}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=SPEC)
        if args["quota_recipients"] < 1 or args["quota_window"] < 1:
            return {
                **result,
                "failed": True,
                "msg": "quota_recipients and quota_window must be > 0",
            }
        lists = [with_file_members(d, args["base_dir"]) for d in args["lists"]]
        found = plan(lists, args["quota_recipients"], args["quota_window"])
        result.update(
            changed=False,
            daily_quota=found.daily_quota,
            delivery_delay=found.delay,
            recipients_per_post=found.per_list,
            recipients_one_post_each=found.one_post_each,
        )
        if found.warnings:
            result["warnings"] = found.warnings
        return result
