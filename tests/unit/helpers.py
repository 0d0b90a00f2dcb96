"""Shared by the unit tests: loading tools/ scripts as modules, known alias sets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]

# The nine aliases of a list named "team", in Mailman's documented order.
TEAM_ALIASES = [
    "team",
    "team-bounces",
    "team-confirm",
    "team-join",
    "team-leave",
    "team-owner",
    "team-request",
    "team-subscribe",
    "team-unsubscribe",
]


def load_script(name: str, directory: str = "tools") -> ModuleType:
    """Import <directory>/<name>.py, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / directory / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
