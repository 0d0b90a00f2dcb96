"""The server Nova made, stood in by a lab host: what a cloud's hypervisor and cloud-init do.

The lab driver boots nothing (tests/lab/roles/openstack_standin). A lab host takes the
server's place on the lab network, which is ext-net1: it gets the fixed IPv4 and IPv6
addresses Neutron gave the server's port, each attached Cinder volume as a block device
under the name a KVM guest sees (/dev/disk/by-id/virtio-<first 20 characters of the
volume id>, backed by a loop device of this machine), and what Debian's cloud images make
of Nova's metadata: the user `debian` with sudo and the key pair's public key, read back
from Nova. It also carries the provider stand-in's test CA, as a custom image would.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit import hosts

NETWORK = "molecule-openstack"
NETWORK_NAME = "ext-net1"
CA_PATH = "/etc/ssl/lab/standin-ca.pem"
# LAB_KEEP_SERVER=1: a stood-in server and its loop devices stay after the tests, for
# `podman exec` after a failed run.
KEEP = os.environ.get("LAB_KEEP_SERVER") == "1"
# Debian's cloud images: the default user, and the capabilities this lab's hosts need to
# mount the volume (SYS_ADMIN) and load the host firewall (NET_ADMIN).
CLOUD_INIT = """
set -eu
id debian >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups sudo debian
printf 'debian ALL=(ALL) NOPASSWD:ALL\\n' > /etc/sudoers.d/90-cloud-init-users
chmod 0440 /etc/sudoers.d/90-cloud-init-users
install -d -m 0700 -o debian -g debian /home/debian/.ssh
printf '%s\\n' "$KEY" > /home/debian/.ssh/authorized_keys
chown debian:debian /home/debian/.ssh/authorized_keys
install -d -m 0755 /etc/ssl/lab
printf '%s' "$CA" > {ca}
systemctl enable --now ssh.service
"""


@dataclass
class Server:
    name: str
    ipv4: str
    ipv6: str


def addresses(server: Any, version: int) -> list[str]:
    return [a["addr"] for a in server.addresses.get(NETWORK_NAME, []) if a["version"] == version]


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def volumes_as_devices(conn: Any, server: Any, tmp: Path) -> Iterator[list[str]]:
    """podman --device mappings: each attached volume, a sparse file of its size on a loop
    device, under the guest's stable name."""
    loops: list[str] = []
    try:
        devices = []
        for attached in server.attached_volumes or []:
            volume = conn.block_storage.get_volume(attached["id"])
            backing = tmp / f"volume-{volume.id}.img"
            with backing.open("wb") as f:
                f.truncate(volume.size * 1024**3)
            loops.append(run("losetup", "--find", "--show", str(backing)))
            devices.append(f"{loops[-1]}:/dev/disk/by-id/virtio-{volume.id[:20]}")
        yield devices
    finally:
        if not KEEP:
            for loop in loops:
                subprocess.run(["losetup", "--detach", loop], check=False)


@contextmanager
def stood_in(conn: Any, server: Any, ca_pem: str, tmp: Path) -> Iterator[Server]:
    """The server, up on the lab network as Nova described it; removed afterwards."""
    ipv4, ipv6 = addresses(server, 4)[0], addresses(server, 6)[0]
    key = conn.compute.get_keypair(server.key_name).public_key.strip()
    platform = {
        "name": server.name,
        "ipv4_address": ipv4,
        "ipv6_address": ipv6,
        "capabilities": ["SYS_ADMIN", "NET_ADMIN"],
    }
    with volumes_as_devices(conn, server, tmp) as devices:
        try:
            hosts.up([{**platform, "devices": devices}], NETWORK, ipv6=True)
            script = CLOUD_INIT.format(ca=shlex.quote(CA_PATH))
            hosts.podman(
                "exec", "-e", f"KEY={key}", "-e", f"CA={ca_pem}", server.name, "sh", "-c", script
            )
            wait_for_ssh(ipv4)
            yield Server(server.name, ipv4, ipv6)
        finally:
            if not KEEP:
                with suppress(hosts.LabError):
                    hosts.podman("rm", "--force", "--time=5", server.name)


def wait_for_ssh(address: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection((address, 22), timeout=2):
            return
        time.sleep(1)
    raise hosts.LabError(f"no SSH on {address} after {timeout:.0f} s")
