"""Each role's public interface is documented once and the same everywhere.

defaults/main.yml, meta/argument_specs.yml and the README's variable table
must name the same variables.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta/argument_specs.yml").exists())
TABLE_ROW = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|", re.MULTILINE)


def spec_options(role: Path) -> dict[str, dict]:
    """The main entry point's options; for a role run only through tasks_from
    (roles/adopt), those of all its entry points."""
    specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]
    if "main" in specs:
        return specs["main"]["options"]
    return {name: o for entry in specs.values() for name, o in entry["options"].items()}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_defaults_match_argument_specs(role: Path) -> None:
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
    options = spec_options(role)
    assert sorted(defaults) == sorted(options), "defaults/main.yml and argument_specs.yml differ"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_variable_is_prefixed_and_described(role: Path) -> None:
    for name, option in spec_options(role).items():
        assert name.startswith(f"{role.name}_"), f"{name} lacks the role prefix"
        assert option.get("description"), f"{name} has no description"
        assert option.get("type"), f"{name} has no type"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_readme_table_matches_argument_specs(role: Path) -> None:
    readme = (role / "README.md").read_text()
    documented = set(TABLE_ROW.findall(readme))
    assert documented == set(spec_options(role)), "README variable table is out of date"
