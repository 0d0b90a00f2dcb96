"""The benchmark lab: hosts from the lab images (labkit), playbook runs, cgroup memory.

Shared by bench/converge and bench/memory. Hosts and variables live in
bench/lab/ (an Ansible inventory); the container names are the host names.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "lab"))

from labkit import hosts  # noqa: E402
from labkit.hosts import podman as podman  # noqa: E402

LAB = ROOT / "bench" / "lab"
INVENTORY = LAB / "hosts.yml"
NETWORK = "listserver-bench"
STANDIN = "provider.bench.lab.test"
RELEASES = {"12": "bookworm", "13": "trixie"}
CACHE = Path(os.environ.get("LISTSERVER_CACHE_DIR", Path.home() / ".cache" / "listserver"))
WORKDIR = CACHE / "bench"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def lists_host(version: str) -> str:
    return f"lists{version}.bench.lab.test"


def floor_host(version: str) -> str:
    return f"floor{version}.bench.lab.test"


def start(name: str, release: str) -> None:
    """A fresh, booted host on the lab network (an old one is replaced)."""
    subprocess.run([str(ROOT / "lab" / "build-image"), release], check=True)
    hosts.up(
        [{"name": name, "image": f"localhost/listserver-lab:{release}"}], NETWORK, recreate=True
    )


def remove(names: list[str]) -> None:
    hosts.down([{"name": name} for name in names], NETWORK)


@dataclass
class Run:
    seconds: float
    changed: int
    failed: int
    output: str


def playbook(
    playbook_path: Path, *args: str, profile_roles: bool = False, strategy: str = ""
) -> Run:
    """Run ansible-playbook against the lab inventory, timed from the outside.

    profile_roles: also enable ansible.posix.profile_roles (its summary only),
    whose ROLES RECAP role_seconds() reads from the output. strategy: another
    strategy plugin than ansible.cfg's (Mitogen), such as Ansible's own linear.
    """
    WORKDIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    if strategy:
        env["ANSIBLE_STRATEGY"] = strategy
    env.setdefault("ANSIBLE_CALLBACKS_ENABLED", "ansible.posix.profile_tasks")
    if profile_roles:
        callbacks = [name for name in env["ANSIBLE_CALLBACKS_ENABLED"].split(",") if name]
        if "ansible.posix.profile_roles" not in callbacks:
            callbacks.append("ansible.posix.profile_roles")
        env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(callbacks)
        # Its per-task timestamp lines would repeat profile_tasks' ones.
        env["PROFILE_ROLES_SUMMARY_ONLY"] = "true"
    env.setdefault("ANSIBLE_ROLES_PATH", f"{ROOT / 'roles'}:{ROOT / 'tests' / 'lab' / 'roles'}")
    command = [
        "ansible-playbook",
        "-i",
        str(INVENTORY),
        str(playbook_path),
        "-e",
        f"lab_workdir={WORKDIR}",
        *args,
    ]
    began = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.monotonic() - began
    log_file = WORKDIR / f"{playbook_path.stem}-{int(time.time())}.log"
    log_file.write_text(result.stdout + result.stderr)
    changed = sum(int(n) for n in re.findall(r" changed=(\d+)", result.stdout))
    failed = sum(int(n) for n in re.findall(r" (?:failed|unreachable)=(\d+)", result.stdout))
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise RuntimeError(f"{playbook_path.name} failed (log {log_file}):\n{tail}")
    return Run(seconds, changed, failed, result.stdout)


# A line of profile_roles' ROLES RECAP: "monitoring ------...------ 1.23s".
ROLE_RECAP_LINE = re.compile(r"^(\S+) -*\s*(\d+(?:\.\d+)?)s$")


def role_seconds(output: str) -> dict[str, float]:
    """Seconds per role from the ROLES RECAP of ansible.posix.profile_roles.

    That callback charges the time from one task's start to the next one's to
    the role of the first (tasks outside a role to their action name), summed
    over the whole run; "total" is left out. Empty without a ROLES RECAP.
    """
    seconds: dict[str, float] = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("ROLES RECAP"):
            in_recap = True
            continue
        match = ROLE_RECAP_LINE.match(line.strip()) if in_recap else None
        if match is None:
            continue
        if match[1] == "total":
            break
        seconds[match[1]] = float(match[2])
    return seconds


def timed_exec(name: str, script: str) -> float:
    """Seconds a shell script takes inside a host."""
    began = time.monotonic()
    result = subprocess.run(
        ["podman", "exec", name, "sh", "-euc", script], capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - began
    if result.returncode != 0:
        raise RuntimeError(f"{name}: {script[:60]}...: {result.stderr[-2000:]}")
    return seconds


def cgroup_memory(name: str) -> dict[str, int]:
    """Memory of a host's cgroup (v1), in bytes.

    non_cache = memory.usage_in_bytes - total_cache + total_shmem: everything
    charged to the host (anonymous memory, kernel memory) except the page
    cache; shared memory such as PostgreSQL's shared buffers is page cache to
    the kernel, so it is added back: it cannot be reclaimed without swap.
    The kernel's reclaimable dentry and inode caches (tens of MB after a
    converge unpacked thousands of files) are dropped first, machine-wide
    (vm.drop_caches=2; page cache is not dropped, it is left out anyway).
    """
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("2\n")
    path = podman("inspect", "--format", "{{.State.CgroupPath}}", name).strip()
    root = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
    usage = int((root / "memory.usage_in_bytes").read_text())
    stat = dict(
        (key, int(value))
        for key, value in (line.split() for line in (root / "memory.stat").read_text().splitlines())
    )
    non_cache = usage - stat["total_cache"] + stat["total_shmem"]
    return {
        "usage": usage,
        "non_cache": non_cache,
        "anon": stat["total_rss"],
        "shmem": stat["total_shmem"],
        "kernel": non_cache - stat["total_rss"] - stat["total_shmem"],
        "page_cache": stat["total_cache"] - stat["total_shmem"],
    }


def unit_memory(name: str) -> dict[str, int]:
    """Proportional anonymous + shared memory (Pss_Anon + Pss_Shmem) per systemd unit.

    Summed over the processes of each unit's cgroup (name=systemd hierarchy);
    proportional set sizes add up without counting shared pages twice.
    """
    path = podman("inspect", "--format", "{{.State.CgroupPath}}", name).strip()
    root = Path("/sys/fs/cgroup/systemd") / path.lstrip("/")
    units: dict[str, int] = {}
    for procs in root.rglob("cgroup.procs"):
        unit = procs.parent.name if procs.parent != root else "-"
        total = 0
        for pid in procs.read_text().split():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in rollup.splitlines():
                if line.startswith(("Pss_Anon:", "Pss_Shmem:")):
                    total += int(line.split()[1]) * 1024
        if total:
            units[unit] = units.get(unit, 0) + total
    return dict(sorted(units.items(), key=lambda item: -item[1]))
