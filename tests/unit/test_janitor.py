"""tools/janitor.py's rules on dates and its order of deletion, on plain records.

What it finds and deletes in a real project (dry run, expired stacks only, another
prefix and hand-made resources spared, a volume in use, a refused credential) is tested
against the lab's OpenStack: molecule/openstack/tests/test_janitor.py. A cloud cannot
be given resources created in the past, nor be made to show in which order it was
asked, so those two things are tested here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from helpers import load_script

janitor = load_script("janitor")
NOW = datetime.now(UTC)
CUTOFF = NOW - timedelta(hours=24)


def found(kind: str, stack: str, hours: float | None, *, declared: bool = False) -> Any:
    created = None if hours is None else NOW - timedelta(hours=hours)
    name = f"{stack}-data" if kind == "volume" else stack
    return janitor.Found(kind, f"id-{kind}-{stack}", name, stack, created, declared)


def stack(name: str, hours: float) -> list[Any]:
    """A stack as Terraform leaves it, without created-at: the API's dates only."""
    return [
        found("server", name, hours),
        found("volume", name, hours),
        found("security group", name, hours),
        found("key pair", name, None),
    ]


def test_an_old_stack_expires_whole_in_deletion_order() -> None:
    doomed = janitor.expired([*reversed(stack("ls-old", 30)), *stack("ls-new", 1)], CUTOFF)
    assert [(i.kind, i.stack) for i in doomed] == [
        ("server", "ls-old"),
        ("volume", "ls-old"),
        ("security group", "ls-old"),
        ("key pair", "ls-old"),
    ]


def test_declared_created_at_wins_over_the_apis_time() -> None:
    items = stack("ls-ci-2", 30)
    items[0] = found("server", "ls-ci-2", 2, declared=True)
    assert janitor.expired(items, CUTOFF) == []


def test_a_stack_with_one_young_resource_is_kept_whole() -> None:
    items = stack("ls-ci-3", 30)
    items[2] = found("security group", "ls-ci-3", 1)
    assert janitor.expired(items, CUTOFF) == []


def test_a_stacks_declared_created_at_is_its_age() -> None:
    # A CI stack made minutes ago with the pipeline's (old) created-at: its security
    # group, which carries no metadata, is young by the API, and does not save it.
    items = stack("ls-ci-5", 1)
    items[0] = found("server", "ls-ci-5", 30, declared=True)
    assert len(janitor.expired(items, CUTOFF)) == 4


def test_a_stack_without_any_date_is_never_expired() -> None:
    assert janitor.expired([found("key pair", "ls-ci-8", None)], CUTOFF) == []


class Recorder:
    """What delete() asks of a connection, in order; every server is gone when looked for."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.compute = self.block_storage = self.network = self

    def __getattr__(self, method: str) -> Any:
        def call(ident: str, **_: object) -> None:
            self.calls.append(f"{method} {ident}")

        return call


def test_every_server_is_asked_to_go_before_the_janitor_waits_for_any() -> None:
    # Nova takes seconds to remove each server; asked one by one, stacks would add up.
    conn = Recorder()
    doomed = janitor.expired([*stack("ls-ci-6", 30), *stack("ls-ci-7", 30)], CUTOFF)
    outcomes = list(janitor.delete(conn, doomed))
    assert all(failed is None for _, failed in outcomes)
    assert conn.calls[:4] == [
        "delete_server id-server-ls-ci-6",
        "delete_server id-server-ls-ci-7",
        "find_server id-server-ls-ci-6",
        "find_server id-server-ls-ci-7",
    ]
    assert conn.calls[4:] == [
        "delete_volume id-volume-ls-ci-6",
        "delete_volume id-volume-ls-ci-7",
        "delete_security_group id-security group-ls-ci-6",
        "delete_security_group id-security group-ls-ci-7",
        "delete_keypair id-key pair-ls-ci-6",
        "delete_keypair id-key pair-ls-ci-7",
    ]
