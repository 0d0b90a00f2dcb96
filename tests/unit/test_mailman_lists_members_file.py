"""members_file of mailman_lists_definitions: read on the controller, checked in the preflight.

The filters are tested directly; the preflight (playbooks/preflight.yml) is run
locally as in test_preflight.py, to prove a bad members file stops the run
naming the list and the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.listserver.mailman3.plugins.filter.mailman_members_file import (
    mailman_members_file,
    mailman_members_file_problems,
)
from test_preflight import run_preflight

GOOD_FILE = "# the newsletter\ncarol@example.net\n\nDan <dan@example.net>\n  # old@example.net\n"


def definition(members_file: str, **more: Any) -> dict[str, Any]:
    return {
        "name": "news",
        "domain": "example.org",
        "owners": ["alice@example.net"],
        "members_file": members_file,
        **more,
    }


def test_a_members_file_gives_its_addresses_skipping_comments_and_blanks(tmp_path: Path) -> None:
    (tmp_path / "news.txt").write_text(GOOD_FILE)
    assert mailman_members_file("news.txt", str(tmp_path)) == [
        "carol@example.net",
        "Dan <dan@example.net>",
    ]
    assert mailman_members_file(str(tmp_path / "news.txt"), "/elsewhere") == [
        "carol@example.net",
        "Dan <dan@example.net>",
    ]


def test_an_unreadable_members_file_is_a_filter_error(tmp_path: Path) -> None:
    with pytest.raises(AnsibleFilterError, match=r"missing\.txt"):
        mailman_members_file("missing.txt", str(tmp_path))


def test_good_members_files_have_no_problems(tmp_path: Path) -> None:
    (tmp_path / "news.txt").write_text(GOOD_FILE)
    entries = [definition("news.txt"), {"name": "team", "domain": "example.org"}]
    assert mailman_members_file_problems(entries, str(tmp_path)) == []


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        (lambda d: None, "cannot be read (No such file or directory)"),
        (lambda d: (d / "news.txt").mkdir(), "cannot be read (Is a directory)"),
        (lambda d: (d / "news.txt").write_bytes(b"caf\xe9@example.net\n"), "cannot be read"),
        (
            lambda d: (d / "news.txt").write_text("carol@example.net\ncarol\nx y@z.org\n"),
            "not an e-mail address (2): carol | x y@z.org",
        ),
    ],
)
def test_a_bad_members_file_is_named_with_its_list(tmp_path: Path, setup: Any, said: str) -> None:
    setup(tmp_path)
    problems = mailman_members_file_problems([definition("news.txt")], str(tmp_path))
    assert len(problems) == 1
    assert problems[0].startswith("mailman_lists_definitions entry 'news@example.org'")
    assert str(tmp_path / "news.txt") in problems[0]
    assert said in problems[0]


def preflight_lists(members_file: str) -> dict[str, Any]:
    return {"listserver_lists": [definition(members_file, members_exclusive=True)]}


def test_the_preflight_accepts_a_good_members_file(tmp_path: Path) -> None:
    (tmp_path / "news.txt").write_text(GOOD_FILE)
    result = run_preflight(tmp_path, preflight_lists("news.txt"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "cannot be read"),
        ("carol@example.net\nnot-an-address\n", "not an e-mail address (1): not-an-address"),
    ],
)
def test_the_preflight_stops_on_a_bad_members_file_naming_list_and_file(
    tmp_path: Path, content: str | None, said: str
) -> None:
    if content is not None:
        (tmp_path / "news.txt").write_text(content)
    result = run_preflight(tmp_path, preflight_lists("news.txt"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "mailman_lists_definitions entry 'news@example.org'" in output, output
    assert str(tmp_path / "news.txt") in output, output
    assert said in output, output
