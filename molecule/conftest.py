"""Shared by the scenarios' verify steps (molecule/*/tests).

A scenario whose verifier runs with ``-n <hosts> --dist loadgroup`` (pytest-xdist)
tests its hosts side by side: each host's tests stay together on one worker,
in the order they were written, as they would run without xdist.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        host = callspec.params.get("_testinfra_host") if callspec else None
        item.add_marker(pytest.mark.xdist_group(str(host or "controller")))
