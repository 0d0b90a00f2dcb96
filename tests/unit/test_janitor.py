"""tools/janitor.py against the OpenStack double (127.0.0.1 only)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import load_script
from openstack_double import (  # tests/doubles, via conftest.py
    CloudState,
    OpenStackDouble,
    security_group,
    server,
    volume,
)

# openstacksdk's deprecation notices about its own internal calls are noise here.
pytestmark = [
    pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK50Warning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK60Warning"),
]

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "janitor.py"
MARK = {"managed-by": "listserver"}


janitor = load_script("janitor")


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_stack(state: CloudState, name: str, age_hours: float, *, with_volume: bool = True) -> None:
    """What `terraform apply` leaves: server, data volume, security group, key pair."""
    when = hours_ago(age_hours)
    srv = server(name, metadata={**MARK, "stack": name}, created=when)
    state.servers.append(srv)
    if with_volume:
        state.volumes.append(
            volume(
                f"{name}-data", size=20, metadata=dict(MARK), created=when, attached_to=srv["id"]
            )
        )
    state.security_groups.append(security_group(name, tags=["managed-by=listserver"], created=when))
    state.keypairs.append({"name": name, "fingerprint": "aa", "type": "ssh"})


@pytest.fixture
def openstack_double(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenStackDouble]:
    """An empty project on the double; OS_* point at it (application credential)."""
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    with OpenStackDouble(CloudState.infomaniak_like()) as double:
        double.state.keypairs.clear()
        for name, value in double.openrc_env(application_credential=True).items():
            monkeypatch.setenv(name, value)
        yield double


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = janitor.main(list(args))
    return code, capsys.readouterr().out.splitlines()


def names(state: CloudState) -> set[str]:
    return {
        *(s["name"] for s in state.servers),
        *(v["name"] for v in state.volumes),
        *(g["name"] for g in state.security_groups),
        *(k["name"] for k in state.keypairs),
    }


def test_dry_run_is_the_default_and_deletes_nothing(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_stack(openstack_double.state, "listserver-ci-1", age_hours=30)
    code, out = run(capsys, "--older-than", "24")
    assert code == 0, out
    assert out[-1] == "1 expired stack(s), 4 resource(s) would delete, 0 failure(s)"
    assert all(line.startswith("would delete") for line in out[:-1])
    state = openstack_double.state
    assert (len(state.servers), len(state.volumes), len(state.security_groups)) == (1, 1, 1)
    assert len(state.keypairs) == 1
    assert not any(m == "DELETE" for m, _ in openstack_double.state.requests)


def deleted(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The output of a --delete run over stacks older than 24 h, which must succeed."""
    code, out = run(capsys, "--older-than", "24", "--delete")
    assert code == 0, out
    return out


def test_delete_removes_only_expired_marked_stacks(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    state = openstack_double.state
    seed_stack(state, "listserver-old", age_hours=30)
    seed_stack(state, "listserver-new", age_hours=1)
    # Same prefix but not marked (made by hand): never touched.
    state.servers.append(server("listserver-manual", created=hours_ago(100)))
    # Marked but another prefix: not this project's stacks.
    seed_stack(state, "other-old", age_hours=30, with_volume=False)
    out = deleted(capsys)
    # Servers first: they hold the volume and the security group.
    assert [line.split(" (")[0] for line in out[:4]] == [
        "deleted server listserver-old",
        "deleted volume listserver-old-data",
        "deleted security group listserver-old",
        "deleted key pair listserver-old",
    ]
    assert names(state) == {
        "listserver-new",
        "listserver-new-data",
        "listserver-manual",
        "other-old",
    }


def test_every_server_is_asked_to_go_before_the_janitor_waits_for_any(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nova takes seconds to remove each server; asked one by one, stacks would add up.
    state = openstack_double.state
    seed_stack(state, "listserver-ci-6", age_hours=30)
    seed_stack(state, "listserver-ci-7", age_hours=30)
    deleted(capsys)
    calls = [method for method, path in state.requests if "/servers" in path]
    first_delete = calls.index("DELETE")
    after = calls[first_delete:]
    assert after[:2] == ["DELETE", "DELETE"], calls
    assert "DELETE" not in after[2:], calls


def test_created_at_metadata_wins_over_api_time(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    state = openstack_double.state
    seed_stack(state, "listserver-ci-2", age_hours=30, with_volume=False)
    state.servers[0]["metadata"]["created-at"] = hours_ago(2)
    code, out = run(capsys, "--older-than", "24", "--delete")
    assert code == 0
    assert out == ["0 expired stack(s), 0 resource(s) deleted, 0 failure(s)"]


def test_a_stack_with_one_young_resource_is_kept_whole(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    state = openstack_double.state
    seed_stack(state, "listserver-ci-3", age_hours=30)
    state.security_groups[0]["created_at"] = hours_ago(1)
    code, out = run(capsys, "--older-than", "24", "--delete")
    assert code == 0
    assert out == ["0 expired stack(s), 0 resource(s) deleted, 0 failure(s)"]
    assert len(state.servers) == 1


def test_a_stacks_declared_created_at_is_its_age(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    # A CI stack made minutes ago with the pipeline's (old) created_at: its security
    # group, which carries no metadata, is young by the API, and does not save it.
    state = openstack_double.state
    seed_stack(state, "listserver-ci-5", age_hours=1)
    state.servers[0]["metadata"]["created-at"] = hours_ago(30)
    code, out = run(capsys, "--older-than", "24", "--delete")
    assert code == 0
    assert out[-1].startswith("1 expired stack(s)")
    assert state.servers == []
    assert state.security_groups == []


def test_volume_still_in_use_is_reported_as_failure(
    openstack_double: OpenStackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    state = openstack_double.state
    seed_stack(state, "listserver-ci-4", age_hours=30)
    # Attached to a server the janitor does not own: deletion is refused.
    state.volumes[0]["attachments"] = [{"server_id": "someone-else"}]
    code, out = run(capsys, "--older-than", "24", "--delete")
    assert code == 1
    assert any(line.startswith("failed to delete volume listserver-ci-4-data") for line in out)
    assert out[-1].endswith("1 failure(s)")


def test_bad_credentials(
    openstack_double: OpenStackDouble,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OS_APPLICATION_CREDENTIAL_SECRET", "wrong")
    code, out = run(capsys)
    assert code == 1
    assert out[0].startswith("authentication failed")
