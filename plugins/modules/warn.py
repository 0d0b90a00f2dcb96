#!/usr/bin/python
# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the warn action plugin (plugins/action/warn.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: warn
short_description: Show a warning and go on
description:
  - Shows O(msg) as a C([WARNING]), the way Ansible shows its own warnings (in the
    output and in the play's summary of every callback), without failing the host.
  - For an input that works but that the operator should reconsider; stopping the
    run would be too strict, and a debug message goes unnoticed.
  - Runs on the controller only (action plugin); supports check mode.
version_added: "0.2.0"
author: listserver maintainers (@listserver)
options:
  msg:
    description: The warning, saying what to change and why.
    type: str
    required: true
attributes:
  check_mode:
    description: Changes nothing; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show a difference of.
    support: none
"""

EXAMPLES = r"""
- name: Warn when the superuser keeps the default name
  listserver.mailman3.warn:
    msg: mailman_web_superuser_name is 'admin', the first name password guessers try.
  when: mailman_web_superuser_name == 'admin'
"""

RETURN = r""" # """
