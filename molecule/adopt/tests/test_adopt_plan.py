"""playbooks/adopt.yml, the dry run, against the guide-built server: it reports what
would move and what the policy would change, writes the lists as code, and changes
nothing on the old server."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[3]
GUIDE = "guide.adopt.lab.test"
NEW = "lists.adopt.lab.test"


def fingerprint(host: testinfra.host.Host) -> str:
    """What the dry run must not change: the databases and the configuration."""
    return str(
        host.check_output(
            "sha256sum /var/lib/mailman3/data/mailman.db /var/lib/mailman3/web/mailman3web.db"
            " /etc/mailman3/mailman.cfg /etc/mailman3/mailman-web.py"
        )
    )


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    guide = testinfra.get_host(f"podman://{GUIDE}")
    before = fingerprint(guide)
    tmp = tmp_path_factory.mktemp("adopt")
    lists_file = tmp / "adopted-lists.yml"
    plan_file = tmp / "plan.yml"
    result = subprocess.run(
        [
            *("ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"]),
            str(ROOT / "playbooks" / "adopt.yml"),
            *("-e", f"adopt_from={GUIDE}", "-e", f"adopt_lists_file={lists_file}"),
            *("-e", f"adopt_plan_file={plan_file}"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return {
        "result": result,
        "lists": yaml.safe_load(lists_file.read_text()) if lists_file.exists() else None,
        "plan": yaml.safe_load(plan_file.read_text()) if plan_file.exists() else None,
        "unchanged": fingerprint(guide) == before,
    }


def test_the_dry_run_succeeds_and_changes_nothing(dry_run: dict[str, Any]) -> None:
    result = dry_run["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    recap = result.stdout.split("PLAY RECAP")[-1]
    assert re.search(rf"{GUIDE}\S*\s*:.*changed=0", recap), recap
    # The dry run leaves the new host alone: nothing is installed there yet.
    assert not testinfra.get_host(f"podman://{NEW}").package("mailman3").is_installed
    assert dry_run["unchanged"], "the dry run changed the old server's data"


def test_it_counts_what_would_move(dry_run: dict[str, Any]) -> None:
    moves = dry_run["plan"]["moves"]
    team, announce = moves["team@lab.test"], moves["announce@lab.test"]
    assert (team["members"], announce["members"]) == (250, 250)
    assert team["delivery_modes"] == {"regular": 250}
    assert announce["delivery_modes"] == {
        "regular": 225,
        "mime_digests": 12,
        "plaintext_digests": 13,
    }
    assert (team["owners"], team["moderators"], announce["moderators"]) == (1, 1, 0)
    assert (team["held"], team["requests"], announce["held"], announce["requests"]) == (1, 0, 0, 1)
    # At least the imported archive: a verify run adds its probe post.
    assert team["posts"] >= 150
    assert (team["threads"] - team["posts"] + 150, team["attachments"]) == (30, 30)
    assert (announce["posts"], announce["threads"], announce["attachments"]) == (50, 50, 10)
    assert dry_run["plan"]["web"] == {"users": 3, "votes": 40}


def test_it_names_the_settings_the_policy_changes(dry_run: dict[str, Any]) -> None:
    assert dry_run["plan"]["changes"] == [
        {"list": fqdn, "setting": "dmarc_mitigate_unconditionally", "from": False, "to": True}
        for fqdn in ("announce@lab.test", "team@lab.test")
    ]


def test_it_writes_the_lists_as_found(dry_run: dict[str, Any]) -> None:
    lists = {entry["name"]: entry for entry in dry_run["lists"]["listserver_lists"]}
    assert set(lists) == {"team", "announce"}
    team = lists["team"]
    assert team["domain"] == "lab.test"
    assert team["owners"] == ["admin@lab.test"]
    assert team["moderators"] == ["mod@outside.test"]
    assert team["description"] == "The team's discussions"
    assert team["settings"]["subject_prefix"] == "[team] "
    assert team["settings"]["max_message_size"] == 512
    assert lists["announce"]["settings"]["subscription_policy"] == "moderate"
