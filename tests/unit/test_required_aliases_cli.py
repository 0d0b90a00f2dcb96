"""tools/required-aliases: the aliases to create by hand at any mail provider."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TEAM_ALIASES

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "tools" / "required-aliases"
TEAM = TEAM_ALIASES
VARS = """\
listserver_admin_email: admin@example.org
mailman_lists_definitions:
  - name: team
    domain: example.org
    owners: [alice@example.org]
  - name: old
    domain: example.org
    owners: [alice@example.org]
    state: absent
  - name: board
    domain: other.example
    owners: [alice@example.org]
"""


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLI), *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.fixture
def vars_file(tmp_path: Path) -> Path:
    path = tmp_path / "lists.yml"
    path.write_text(VARS)
    return path


def test_text_prints_one_alias_per_line(vars_file: Path) -> None:
    done = cli(str(vars_file), "--domain", "example.org")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [*TEAM, "postorius", "noreply", "admin"]
    assert "board@other.example" in done.stderr
    assert "old-bounces" in done.stderr


def test_full_prints_addresses(vars_file: Path) -> None:
    done = cli(str(vars_file), "--domain", "example.org", "--full", "--site-sender", "lists")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{alias}@example.org" for alias in [*TEAM, "postorius", "noreply", "admin", "lists"]
    ]


def test_site_senders_are_printed_once(vars_file: Path) -> None:
    done = cli(str(vars_file), "--domain", "example.org", "--site-sender", "noreply")
    assert done.stdout.splitlines().count("noreply") == 1


def test_json_carries_required_removable_and_skipped(vars_file: Path) -> None:
    done = cli(str(vars_file), "--domain", "example.org", "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["domain"] == "example.org"
    assert document["required"] == [*TEAM, "postorius", "noreply", "admin"]
    assert document["addresses"][0] == "team@example.org"
    assert document["removable"] == [alias.replace("team", "old", 1) for alias in TEAM]
    assert document["site_senders"] == ["postorius", "noreply", "admin"]
    assert document["skipped_lists"] == ["board@other.example"]


def test_without_defaults_only_the_given_site_senders(vars_file: Path) -> None:
    done = cli(
        str(vars_file),
        "--domain",
        "example.org",
        "--no-default-site-senders",
        "--site-sender",
        "web",
    )
    assert done.stdout.splitlines() == [*TEAM, "web"]


def test_other_domain_and_stdin(vars_file: Path) -> None:
    done = cli("-", "--domain", "other.example", stdin=vars_file.read_text())
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["board", "board-bounces"]
    assert "admin" not in done.stdout.splitlines()  # the site owner is on example.org


def test_several_domains_need_domain(vars_file: Path) -> None:
    done = cli(str(vars_file))
    assert done.returncode == 2
    assert "give --domain" in done.stderr


def test_listserver_lists_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "all.yml"
    path.write_text("listserver_lists:\n  - {name: team, domain: example.org}\n")
    done = cli(str(path))
    assert done.stdout.splitlines() == [*TEAM, "postorius", "noreply"]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("mailman_lists_definitions:\n  - {name: Team, domain: example.org}\n", "lowercase"),
        ("mailman_lists_definitions:\n  - {name: a-owner, domain: example.org}\n", "'-owner'"),
        ('mailman_lists_definitions: "{{ listserver_lists }}"\n', "is a template"),
        ("$ANSIBLE_VAULT;1.1;AES256\n6162\n", "vault-encrypted"),
        ("other: 1\n", "no mailman_lists_definitions or listserver_lists"),
    ],
)
def test_bad_input_is_refused_with_a_reason(tmp_path: Path, content: str, complaint: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(content)
    done = cli(str(path), "--domain", "example.org")
    assert done.returncode == 2
    assert complaint in done.stderr
    assert done.stdout == ""
