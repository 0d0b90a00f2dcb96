#!/usr/bin/env python3
"""Delete this project's expired list server stacks (test leftovers); dry run by default.

A stack is what `terraform/` creates under one name `<prefix>-<stack>`: a server and a
volume (`<name>-data`) carrying the metadata `managed-by=listserver`, a security group
tagged `managed-by=listserver`, and a key pair of the same name. A stack is expired when
it is older than --older-than hours: its age is its own `created-at` (the metadata
Terraform's created_at puts on its server and volume, the time the pipeline started),
or, without it, the API's creation time of its newest resource. Credentials: openrc
(OS_*) or OS_CLOUD.

    tools/janitor.py --older-than 6                # list what would go
    tools/janitor.py --older-than 6 --delete       # delete it
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import openstack
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as sdk_exceptions

MARKER_KEY = "managed-by"
MARKER_VALUE = "listserver"
MARKER_TAG = f"{MARKER_KEY}={MARKER_VALUE}"
KINDS = ("server", "volume", "security group", "key pair")  # deletion order
SERVER_WAIT = 300.0  # seconds for Nova to remove a deleted server


@dataclass(frozen=True)
class Found:
    """One cloud resource that belongs to a stack."""

    kind: str
    ident: str
    name: str
    stack: str
    created: datetime | None
    # created comes from the stack's own created-at metadata, not the API.
    declared: bool = False


def parse_time(value: object) -> datetime | None:
    """An API or metadata timestamp as an aware UTC datetime; None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _created(metadata: dict[str, str] | None, api_value: object) -> tuple[datetime | None, bool]:
    declared = parse_time((metadata or {}).get("created-at"))
    return (declared, True) if declared else (parse_time(api_value), False)


def discover(conn: Any, prefix: str) -> list[Found]:
    """Every resource of every stack named `<prefix>-*` in the project."""
    start = f"{prefix}-"
    found: list[Found] = []
    for server in conn.compute.servers(details=True):
        meta = server.metadata or {}
        if meta.get(MARKER_KEY) == MARKER_VALUE and server.name.startswith(start):
            created, declared = _created(meta, server.created_at)
            found.append(Found("server", server.id, server.name, server.name, created, declared))
    for volume in conn.block_storage.volumes(details=True):
        meta = volume.metadata or {}
        if meta.get(MARKER_KEY) == MARKER_VALUE and (volume.name or "").startswith(start):
            stack = volume.name.removesuffix("-data")
            created, declared = _created(meta, volume.created_at)
            found.append(Found("volume", volume.id, volume.name, stack, created, declared))
    for group in conn.network.security_groups():
        if MARKER_TAG in (group.tags or []) and group.name.startswith(start):
            created = parse_time(group.created_at)
            found.append(Found("security group", group.id, group.name, group.name, created))
    stacks = {f.stack for f in found}
    for keypair in conn.compute.keypairs():
        # Key pairs carry no metadata: only those named after a marked stack are ours.
        if keypair.name in stacks:
            found.append(Found("key pair", keypair.name, keypair.name, keypair.name, None))
    return found


def expired(found: Iterable[Found], cutoff: datetime) -> list[Found]:
    """Resources of the stacks older than `cutoff`: by their declared created-at when they
    carry one (a stack's resources are all made after it), else by every API date."""
    by_stack: dict[str, list[Found]] = defaultdict(list)
    for item in found:
        by_stack[item.stack].append(item)
    doomed: list[Found] = []
    for items in by_stack.values():
        dated = [i for i in items if i.created is not None]
        dated = [i for i in dated if i.declared] or dated
        dates = [i.created for i in dated if i.created is not None]
        if dates and max(dates) < cutoff:
            doomed.extend(items)
    return sorted(doomed, key=lambda i: (KINDS.index(i.kind), i.name))


def delete(
    conn: Any, doomed: list[Found], server_wait: float = SERVER_WAIT
) -> Iterator[tuple[Found, str | None]]:
    """Delete, yielding each resource with why it failed (None: deleted; already gone
    counts as deleted). Every server is asked to go first and then waited for, together:
    until Nova has removed it, its volume stays in use and its port holds its security
    group, and deleting either is refused."""
    actions: dict[str, Callable[..., object]] = {
        "server": conn.compute.delete_server,
        "volume": conn.block_storage.delete_volume,
        "security group": conn.network.delete_security_group,
        "key pair": conn.compute.delete_keypair,
    }
    waiting: list[Found] = []
    for item in doomed:
        if item.kind != "server" and waiting:
            yield from wait_for_servers(conn, waiting, server_wait)
            waiting = []
        try:
            actions[item.kind](item.ident, ignore_missing=True)
        except sdk_exceptions.SDKException as exc:
            yield item, first_line(exc)
            continue
        if item.kind == "server":
            waiting.append(item)
        else:
            yield item, None
    yield from wait_for_servers(conn, waiting, server_wait)


def wait_for_servers(
    conn: Any, servers: list[Found], server_wait: float
) -> Iterator[tuple[Found, str | None]]:
    """Each server once Nova has removed it, or with a timeout after server_wait."""
    deadline = time.monotonic() + server_wait
    while servers:
        left = [s for s in servers if conn.compute.find_server(s.ident, ignore_missing=True)]
        yield from ((s, None) for s in servers if s not in left)
        servers = left
        if servers and time.monotonic() > deadline:
            yield from ((s, f"still there after {server_wait:.0f} s") for s in servers)
            return
        if servers:
            time.sleep(2)


def first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when everything listed was (or would be) deleted, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--os-cloud", help="cloud in clouds.yaml (default: $OS_CLOUD or OS_*)")
    parser.add_argument("--prefix", default="listserver", help="name_prefix of the stacks")
    parser.add_argument(
        "--older-than", type=float, default=24.0, metavar="HOURS", help="age limit (24)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", default=True, help="only list (the default)"
    )
    mode.add_argument("--delete", action="store_true", help="really delete")
    args = parser.parse_args(argv)
    if args.older_than < 0:
        parser.error("--older-than must be 0 or more")

    cutoff = datetime.now(UTC) - timedelta(hours=args.older_than)
    verb = "deleted" if args.delete else "would delete"
    failures = 0
    try:
        conn = openstack.connect(cloud=args.os_cloud)
        doomed = expired(discover(conn, args.prefix), cutoff)
        outcomes = delete(conn, doomed) if args.delete else ((i, None) for i in doomed)
        for item, failed in outcomes:
            if failed:
                failures += 1
                print(f"failed to delete {item.kind} {item.name} ({item.ident}): {failed}")
                continue
            when = item.created.isoformat() if item.created else "-"
            print(f"{verb} {item.kind} {item.name} ({item.ident}) created {when}")
    except ks_exceptions.Unauthorized:
        print("authentication failed: the cloud refused the credentials (check OS_* / clouds.yaml)")
        return 1
    except (ks_exceptions.ClientException, sdk_exceptions.SDKException) as exc:
        print(f"cloud error: {first_line(exc)}")
        return 1
    stacks = len({i.stack for i in doomed})
    print(f"{stacks} expired stack(s), {len(doomed)} resource(s) {verb}, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
