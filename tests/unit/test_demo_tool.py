"""tools/demo.py (make demo, make demo-test): the inventory it reads, the check of a copy,
how it follows a step's output. The lab itself is exercised by make demo-test."""

from __future__ import annotations

import sys
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from helpers import load_script

demo_tool: ModuleType = load_script("demo")


@pytest.fixture
def demo() -> Any:
    return demo_tool.Demo.load()


def copy_of_the_post(**headers: str) -> EmailMessage:
    """A member's copy as Mailman sends it for the demo list (munge_from)."""
    msg = EmailMessage()
    msg["From"] = "Alice via Demo <demo@demo.lab.test>"
    msg["To"] = "demo@demo.lab.test"
    msg["Subject"] = "[Demo] Hello from the demo #1"
    msg["List-Id"] = "Demo list of the local lab <demo.demo.lab.test>"
    msg["Message-ID-Hash"] = "SOEZNE5I3LV4YOOA6OZKOXW42FDPDT3E"
    for name, value in headers.items():
        del msg[name.replace("_", "-")]
        if value:
            msg[name.replace("_", "-")] = value
    msg.set_content("A post to the demo list.\n")
    return msg


def test_inventory_gives_the_list_and_its_members(demo: Any) -> None:
    assert demo.list_address == "demo@demo.lab.test"
    assert demo.list_id == "demo.demo.lab.test"
    assert demo.fqdn == "lists.demo.lab.test"
    addresses = [address for address, _name in demo.members]
    assert addresses[0] == "alice@example.test"
    assert len(addresses) == len(set(addresses)) >= 2
    assert all(a.endswith("@example.test") for a in addresses), "members read mail at the stand-in"


def test_copy_as_mailman_sends_it_passes(demo: Any) -> None:
    assert demo_tool.problems_with_copy(demo, "bjorn@example.test", [copy_of_the_post()]) == []


def test_missing_copy_fails(demo: Any) -> None:
    problems = demo_tool.problems_with_copy(demo, "bjorn@example.test", [])
    assert problems == ["bjorn@example.test: no copy of the post in the mailbox"]


@pytest.mark.parametrize(
    ("headers", "complaint"),
    [
        ({"From": "Alice <alice@example.test>"}, "DMARC munge_from"),
        ({"List_Id": ""}, "List-Id"),
        ({"List_Id": "Other <other.demo.lab.test>"}, "List-Id"),
        ({"Message_ID_Hash": ""}, "Message-ID-Hash"),
    ],
)
def test_copy_not_distributed_by_the_list_fails(
    demo: Any, headers: dict[str, str], complaint: str
) -> None:
    problems = demo_tool.problems_with_copy(
        demo, "carol@example.test", [copy_of_the_post(**headers)]
    )
    assert len(problems) == 1
    assert complaint in problems[0]
    assert problems[0].startswith("carol@example.test: ")


def test_secret_is_read_from_the_demo_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_tool, "DEMO_DIR", tmp_path)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "admin").write_text("s3cretPassword\n")
    assert demo_tool.Demo.secret("admin") == "s3cretPassword"
    with pytest.raises(demo_tool.DemoError, match="make demo"):
        demo_tool.Demo.secret("outside")


FAKE_MOLECULE = r"""
import sys
print("\x1b[36mINFO\x1b[0m     demo > converge: Executing")
print("  \x1b[2m\u2502\x1b[0m PLAY [Deploy the list server] ****")
print("  \u2502 TASK [postfix : Install the Postfix packages] ****")
print("  \u2502 PLAY [Lists] ****")
print("  \u2502 TASK [mailman_lists : Create the lists] ****")
print("  \u2502 fatal: [lists.demo.lab.test]: FAILED! => {}" if sys.argv[1] == "fail" else "")
print("  \u2502 PLAY RECAP ****")
print("  \u2502 lists.demo.lab.test        : ok=40   changed=3    unreachable=0    failed=0")
print("  \u2502 localhost                  : ok=4    changed=1    unreachable=0    failed=0")
sys.exit(2 if sys.argv[1] == "fail" else 0)
"""


def test_step_shows_plays_and_counts_the_recap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_tool, "LOGS", tmp_path)
    result = demo_tool.step("converge", [sys.executable, "-c", FAKE_MOLECULE, "ok"], plays=True)
    assert (result.tasks, result.changed) == (44, 4)
    shown = capsys.readouterr().out.splitlines()
    assert shown == ["demo:   - Deploy the list server", "demo:   - Lists"]
    assert "Install the Postfix packages" in (tmp_path / "converge.log").read_text()


def test_failed_step_names_its_log_and_shows_the_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_tool, "LOGS", tmp_path)
    with pytest.raises(demo_tool.DemoError) as failure:
        demo_tool.step("converge", [sys.executable, "-c", FAKE_MOLECULE, "fail"])
    assert str(tmp_path / "converge.log") in str(failure.value)
    assert "exit 2" in str(failure.value)
    assert "fatal: [lists.demo.lab.test]" in capsys.readouterr().out
