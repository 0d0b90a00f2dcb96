#!/usr/bin/env python3
"""Check that an OpenStack project can hold a list server stack, before `terraform apply`.

Credentials come from the environment like the OpenStack CLI: an openrc file (OS_AUTH_URL,
OS_APPLICATION_CREDENTIAL_ID, ...) or clouds.yaml (OS_CLOUD / --os-cloud). Only reads.

Checks that the flavor, image (by name), network and, when named, key pair exist, and that
the compute quota (instances, cores, RAM) and, with --volume-size, the volume quota leave
room for one more stack. Prints one line per failure and exits 1, or a summary and exits 0.

    tools/openstack_preflight.py --flavor a1-ram2-disk20-perf1 --image "Debian 13 trixie" \\
        --network ext-net1 --key-name alice --volume-size 20
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

import openstack
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as sdk_exceptions

UNLIMITED = -1


@dataclass(frozen=True)
class Wanted:
    """What one stack needs (mirrors terraform.tfvars)."""

    flavor: str = "a1-ram2-disk20-perf1"
    image: str = "Debian 13 trixie"
    network: str = "ext-net1"
    key_name: str | None = None
    volume_size: int = 0


@dataclass
class Report:
    """Failures (each one line) and facts for the summary."""

    failures: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


def _room(limit: int | None, used: int | None, need: int) -> bool:
    if limit is None or limit == UNLIMITED:
        return True
    return limit - (used or 0) >= need


def _quota(report: Report, what: str, limit: int | None, used: int | None, need: int) -> None:
    if _room(limit, used, need):
        shown = "unlimited" if limit in (None, UNLIMITED) else f"{used or 0}/{limit} used"
        report.facts.append(f"{what} {shown}")
    else:
        report.failures.append(
            f"quota: {what} exhausted ({used or 0} of {limit} used, the stack needs {need} more)"
        )


def _find(find: Any, name: str) -> Any:
    """`find` (a proxy's find_* method) by name or ID; None when it does not exist."""
    try:
        return find(name, ignore_missing=False)
    except sdk_exceptions.NotFoundException:
        return None


def check(conn: Any, wanted: Wanted) -> Report:
    """Run every check against `conn`; never raises for a missing resource."""
    report = Report()

    flavor = _find(conn.compute.find_flavor, wanted.flavor)
    if flavor is None:
        report.failures.append(f"flavor not found: {wanted.flavor!r}")
    else:
        report.facts.append(f"flavor {flavor.name} ({flavor.vcpus} vCPU, {flavor.ram} MB)")

    image = _find(conn.image.find_image, wanted.image)
    if image is None:
        report.failures.append(f"image not found: {wanted.image!r}")
    else:
        report.facts.append(f"image {image.name} ({image.id})")

    network = _find(conn.network.find_network, wanted.network)
    if network is None:
        report.failures.append(f"network not found: {wanted.network!r}")
    else:
        report.facts.append(f"network {network.name}")

    if wanted.key_name:
        keypair = _find(conn.compute.find_keypair, wanted.key_name)
        if keypair is None:
            report.failures.append(f"key pair not found: {wanted.key_name!r}")
        else:
            report.facts.append(f"key pair {keypair.name}")

    limits = conn.compute.get_limits().absolute
    _quota(report, "instances", limits.instances, limits.instances_used, 1)
    if flavor is not None:
        _quota(report, "cores", limits.total_cores, limits.total_cores_used, flavor.vcpus)
        _quota(report, "RAM (MB)", limits.total_ram, limits.total_ram_used, flavor.ram)

    if wanted.volume_size > 0:
        vlimits = conn.block_storage.get_limits().absolute
        _quota(report, "volumes", vlimits.max_total_volumes, vlimits.total_volumes_used, 1)
        _quota(
            report,
            "volume gigabytes",
            vlimits.max_total_volume_gigabytes,
            vlimits.total_gigabytes_used,
            wanted.volume_size,
        )
    return report


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Wanted]:
    """Command line: the same values as terraform.tfvars."""
    defaults = Wanted()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--os-cloud", help="cloud in clouds.yaml (default: $OS_CLOUD or OS_*)")
    parser.add_argument("--flavor", default=defaults.flavor, help="flavor_name")
    parser.add_argument("--image", default=defaults.image, help="image_name")
    parser.add_argument("--network", default=defaults.network, help="network_name")
    parser.add_argument("--key-name", help="ssh_key_name (an existing key pair), if used")
    parser.add_argument(
        "--volume-size",
        type=int,
        default=0,
        help="data_volume_size in GB when data_volume_enabled (0: no volume)",
    )
    args = parser.parse_args(argv)
    if args.volume_size < 0:
        parser.error("--volume-size must be 0 or more")
    wanted = Wanted(args.flavor, args.image, args.network, args.key_name, args.volume_size)
    return args, wanted


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when the stack fits, 1 on any failure."""
    args, wanted = parse_args(argv)
    try:
        conn = openstack.connect(cloud=args.os_cloud)
        report = check(conn, wanted)
    except ks_exceptions.Unauthorized:
        print("authentication failed: the cloud refused the credentials (check OS_* / clouds.yaml)")
        return 1
    except (ks_exceptions.MissingRequiredOptions, sdk_exceptions.ConfigException) as exc:
        print(
            f"configuration: no usable credentials ({exc}); source the openrc file or set OS_CLOUD"
        )
        return 1
    except (ks_exceptions.ClientException, sdk_exceptions.SDKException) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"cloud error: {first}")
        return 1
    for failure in report.failures:
        print(failure)
    if report.failures:
        return 1
    print("preflight ok: " + "; ".join(report.facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
