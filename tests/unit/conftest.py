"""Shared fixtures of the unit tests.

The Mail API double lives in ``tests/doubles`` and the collection's Python code
under ``collections/ansible_collections`` (a symlink to the repository root);
both are put on ``sys.path`` here so tests import them the way Ansible does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT / "tests" / "doubles", ROOT / "collections"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from mail_api_double import MailApiDouble  # noqa: E402


@pytest.fixture
def mail_api_double() -> Iterator[MailApiDouble]:
    """The Mail API double on a random 127.0.0.1 port (hosting 1234, mailbox mailman)."""
    with MailApiDouble() as double:
        yield double
