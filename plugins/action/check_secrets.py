# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin: check that secret variables can be read, without printing them.

The module documentation is in plugins/modules/check_secrets.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

# "name" or "name[].key": a variable, or a key of every item of a list variable.
NAME = re.compile(r"^(?P<var>[A-Za-z_][A-Za-z0-9_]*)(?:\[\]\.(?P<key>[A-Za-z_][A-Za-z0-9_]*))?$")
# What Ansible says about an unset variable; only a vault variable's name is
# repeated, any other name may be a piece of the secret.
UNSET = re.compile(r"'(?P<name>vault_[A-Za-z0-9_]*)' is undefined")
PRINTABLE_ASCII = re.compile(r"^[ -~]*$")
UNREADABLE = (
    "its value (from your vault) starts a template with {{, {% or {#, which Ansible "
    "then evaluates (and prints in its error). Write such a secret as !unsafe '...' "
    "in the vault so that it is taken literally."
)


def describe(value: object) -> str:
    """The YAML kind of a value that is not a string, for the message."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a YAML boolean"
    if isinstance(value, (int, float)):
        return "a bare YAML number"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def problems_of(label: str, value: object, ascii_only: bool) -> list[str]:
    if not isinstance(value, str):
        return [
            f"{label} is {describe(value)}, not a string: quote it in your vault, for "
            f"example '0123' (YAML reads an unquoted 0123 as the number 83, and yes/no "
            f"as a boolean, which is not the text you typed)."
        ]
    if ascii_only and not PRINTABLE_ASCII.match(value):
        return [
            f"{label} may only hold printable ASCII (letters, digits, space and "
            f"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{{|}}~): it is sent in HTTP Basic auth, which "
            f"the web UI encodes as Latin-1 and Mailman decodes as UTF-8, so any other "
            f"character makes the login fail."
        ]
    return []


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("names", "ascii"))

    def _read(self, var: str, spec: str, task_vars: dict[str, Any]) -> tuple[Any, str | None]:
        """The variable's value, or why it cannot be read (never the value itself)."""
        try:
            return self._templar.template(task_vars[var]), None
        except AnsibleError as err:
            # The message of a template error quotes the template, that is the secret:
            # only a vault variable name is taken from it.
            unset = UNSET.search(str(err.message))
            needs = f"it needs {unset['name']}, which is not set, or " if unset else ""
            return None, f"{spec} cannot be read: {needs}{UNREADABLE}"

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        names = self._task.args.get("names")
        ascii_names = self._task.args.get("ascii", [])
        for option, value in (("names", names), ("ascii", ascii_names)):
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                return {
                    **result,
                    "failed": True,
                    "msg": f"{option} must be a list of variable names",
                }

        problems: list[str] = []
        for spec in dict.fromkeys([*names, *ascii_names]):
            match = NAME.match(spec)
            if not match:
                return {**result, "failed": True, "msg": f"not a variable name: {spec}"}
            var, key = match["var"], match["key"]
            ascii_only = spec in ascii_names
            if var not in task_vars:
                problems.append(f"{var} is not set.")
                continue
            value, unreadable = self._read(var, spec, task_vars)
            if unreadable:
                problems.append(unreadable)
            elif key is None:
                problems += problems_of(var, value, ascii_only)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, Mapping) and key in item:
                        problems += problems_of(f"{var}[{index}].{key}", item[key], ascii_only)
            else:
                problems.append(f"{var} must be a list.")

        result["changed"] = False
        result["checked"] = list(dict.fromkeys([*names, *ascii_names]))
        if problems:
            result["failed"] = True
            result["msg"] = " ".join(problems)
        return result
