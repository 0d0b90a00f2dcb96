"""The services that keep data on the data volume run on it, and never without it.

A copy of the converged host (podman commit) gets a loop device of this
machine under a stable /dev/disk/by-id/ name, as OpenStack attaches a
volume, and CAP_SYS_ADMIN to mount it. Its data is copied onto the volume,
as after a rebuild on a volume that outlives the instance, and the
data_volume role is applied. That host, committed again, then boots twice
with the same systemd units, drop-ins and /etc/fstab:

- with the volume: the mounts come up and every service runs on them;
- without it (no device): the mount fails, boot completes, and PostgreSQL,
  Mailman core, the web app and Postfix stay down, their journal saying
  "Dependency failed". Without the role's drop-ins they would start on the
  root disk's directories.

Not exercised: the volume's own unit as systemd's fstab generator makes it
(the generator skips device entries in containers: STAND_IN writes the same
unit by hand), and the device timeout (a container has no udev, hence no
device units: the mount fails at once rather than after 30 s).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[3]
MOUNTPOINT = "/srv/listserver-data"
BIND_DIRS = ["/var/lib/postgresql", "/var/lib/mailman3", "/var/spool/postfix"]
# The services to watch: those of these patterns that run on the converged
# host (Debian 12 runs Postfix as postfix@-.service, 13 as postfix.service).
SERVICES = ["postgresql@*", "mailman3.service", "mailman3-web.service", "postfix*"]
LAB_FLAGS = [
    "--systemd=always",
    "--ulimit=nofile=20000:20000",
    "--ulimit=nproc=32768:32768",
    "--cap-add=SYS_ADMIN",
    # As the scenario's list servers (molecule.yml): the host firewall loads at boot.
    "--cap-add=NET_ADMIN",
]


STAND_IN = """
unit=$(systemd-escape --path --suffix=mount {mountpoint})
grep -q '^{device} {mountpoint} ext4 defaults,nofail,' /etc/fstab
printf '%s\\n' '[Unit]' 'Description=Stand-in for the fstab unit of {mountpoint}' \\
  '[Mount]' 'What={device}' 'Where={mountpoint}' 'Type=ext4' 'Options=defaults' \\
  '[Install]' 'WantedBy=local-fs.target' > "/etc/systemd/system/$unit"
systemctl enable "$unit"
"""

# What an operator does to move a host's data onto a new volume. The
# instances are stopped by name: stopping the wrappers (postgresql.service,
# postfix.service) returns before the instances they propagate to are down,
# and cp then met a vanishing postmaster.pid. cron and the timers stop too, as
# nothing may write there during the copy. One command per line, so that sh -e
# stops at the first that fails (it ignores a failure inside an && chain).
COPY = "\n".join(f"mkdir -p /mnt{d}\ncp -a {d}/. /mnt{d}/" for d in BIND_DIRS)
MOVE_DATA = """
systemctl stop cron.service '*.timer'
systemctl stop 'postgresql@*' postgresql mailman3 mailman3-web 'postfix@*' postfix
mount {device} /mnt
{copy}
umount /mnt
"""


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
    return result


def inside(name: str, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run("podman", "exec", name, "sh", "-ec", script, check=check)


def boot(name: str, image: str, *flags: str) -> str:
    """Start a container from the image; the state systemd reached once booted."""
    argv = ["podman", "run", "-d", "--name", name, "--hostname", name, *LAB_FLAGS, *flags]
    run(*argv, image)
    for _ in range(60):
        booted = inside(name, "systemctl is-system-running --wait", check=False)
        if booted.stdout.strip():
            return booted.stdout.strip()
        time.sleep(1)  # systemd's bus is not up yet
    raise AssertionError(f"{name} did not boot: {booted.stderr}")


def remove(*names: str) -> None:
    for name in names:
        run("podman", "rm", "-f", "--time", "10", name, check=False)


def running(name: str) -> list[str]:
    """The units of SERVICES that run on the host (instances expanded)."""
    listed = run(
        "podman", "exec", name, "systemctl", "list-units", "--state=active", "--type=service",
        "--plain", "--no-legend", *SERVICES,
    )  # fmt: skip
    found = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert len(found) >= len(SERVICES), listed.stdout
    return found


def settled(name: str, wanted: list[str], seconds: int = 90) -> list[str]:
    """The running units once none of the wanted ones is still starting.

    A unit systemd is still bringing up (a slow ExecStartPre, or the 5 s
    before Restart=on-failure starts it again) is waited for; one that
    settled as failed or inactive is not.
    """
    for _ in range(seconds):
        found = running(name)
        missing = [unit for unit in wanted if unit not in found]
        if not missing:
            return found
        states = inside(name, f"systemctl is-active {' '.join(missing)} || true").stdout.split()
        if not {"activating", "reloading"} & set(states):
            return found
        time.sleep(1)
    return running(name)


def status(name: str, units: list[str]) -> str:
    """systemctl status of the units, with how often each was restarted."""
    if not units:
        return ""
    listed = " ".join(units)
    shown = inside(name, f"systemctl status --no-pager -n 0 {listed}", check=False).stdout
    restarts = inside(name, f"systemctl show -p Id -p NRestarts {listed}", check=False).stdout
    return f"{shown}\n{restarts}"


def journal(name: str, units: list[str]) -> str:
    flags = " ".join(f"-u {unit}" for unit in units)
    return inside(name, f"journalctl -b --no-pager -n 60 {flags}").stdout


def converge_data_volume(name: str, device: str, tmp: Path) -> None:
    inventory = tmp / "inventory.yml"
    host_vars = {
        "ansible_connection": "containers.podman.podman",
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: host_vars}}}))
    playbook = tmp / "volume.yml"
    role = {"role": "data_volume", "vars": {"data_volume_device": device}}
    playbook.write_text(yaml.safe_dump([{"hosts": name, "gather_facts": False, "roles": [role]}]))
    result = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(playbook)],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_ROLES_PATH": str(ROOT / "roles")},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@dataclass
class VolumeLab:
    image: str
    services: list[str]
    loop: str
    by_id: str
    name: str


@pytest.fixture(scope="module")
def lab(host: testinfra.host.Host, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VolumeLab]:
    """An image of the converged host with the data on a volume, and that volume."""
    tag = uuid.uuid4().hex[:8]
    source = host.backend.get_hostname()
    tmp = tmp_path_factory.mktemp(f"volume-{tag}")
    backing = tmp / "volume.img"
    with backing.open("wb") as file:
        file.truncate(2 * 1024**3)
    run("mkfs.ext4", "-q", "-F", str(backing))
    loop = run("losetup", "-f", "--show", str(backing)).stdout.strip()
    by_id = f"/dev/disk/by-id/virtio-lab-{tag}"
    images = [
        f"localhost/listserver-volume-test:{tag}-host",
        f"localhost/listserver-volume-test:{tag}",
    ]
    setup = f"volume-setup-{tag}"
    try:
        run("podman", "commit", source, images[0])
        # The role may need apt (e2fsprogs): this one host has a network.
        boot(setup, images[0], f"--device={loop}:{by_id}", "--network=podman")
        inside(setup, MOVE_DATA.format(device=by_id, copy=COPY))
        converge_data_volume(setup, by_id, tmp)
        # systemd's fstab generator skips device entries when /sys is
        # read-only (in containers): this unit stands for the one it makes
        # from the role's fstab line on a real host (same name, source,
        # target, options; the bind mounts and drop-ins are the role's own).
        inside(setup, STAND_IN.format(device=by_id, mountpoint=MOUNTPOINT))
        run("podman", "stop", "--time", "30", setup)
        run("podman", "commit", setup, images[1])
        services = running(source)
        yield VolumeLab(images[1], services, loop=loop, by_id=by_id, name=f"volume-{tag}")
    finally:
        remove(setup, f"volume-{tag}")
        run("podman", "image", "rm", "-f", *images, check=False)
        run("losetup", "-d", loop, check=False)
        backing.unlink(missing_ok=True)


def test_with_the_volume_every_service_runs_on_it(lab: VolumeLab) -> None:
    try:
        state = boot(lab.name, lab.image, f"--device={lab.loop}:{lab.by_id}", "--network=none")
        found = settled(lab.name, lab.services)
        missing = [unit for unit in lab.services if unit not in found]
        log = journal(lab.name, missing)
        assert not missing, f"{state}: {missing} not running\n{status(lab.name, missing)}\n{log}"
        source = inside(lab.name, f"findmnt -n -o SOURCE {MOUNTPOINT}").stdout.strip()
        assert source in (lab.loop, lab.by_id), source
        for directory in BIND_DIRS:
            where = inside(lab.name, f"findmnt -n -o SOURCE {directory}").stdout.strip()
            assert where == f"{source}[{directory}]", f"{directory} is not on the volume: {where}"
    finally:
        remove(lab.name)


def test_without_the_volume_the_services_stay_down_and_say_why(lab: VolumeLab) -> None:
    try:
        state = boot(lab.name, lab.image, "--network=none")
        assert state == "degraded", state
        # Every service is down; those whose start was tried say why. Now and
        # then a unit's start is never queued in that boot (its journal has no
        # entry at all, on Debian 12 once mailman3-web): down all the same.
        said = []
        for unit in lab.services:
            active = inside(lab.name, f"systemctl is-active {unit}", check=False).stdout.strip()
            log = journal(lab.name, [unit])
            assert active != "active", f"{unit} runs without the volume:\n{log}"
            assert "Dependency failed" in log or "-- No entries --" in log, f"{unit}:\n{log}"
            said += [unit] if "Dependency failed" in log else []
            needs = inside(lab.name, f"systemctl show -P RequiresMountsFor {unit}").stdout
            assert set(BIND_DIRS) <= set(needs.split()), f"{unit}: {needs}"
        assert len(said) >= len(lab.services) - 1, f"only {said} say why"
        mounted = inside(lab.name, f"findmnt -n {MOUNTPOINT}", check=False)
        assert mounted.returncode != 0, mounted.stdout
    finally:
        remove(lab.name)
