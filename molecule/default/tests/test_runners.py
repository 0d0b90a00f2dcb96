"""Mailman's runners forked from the pre-loading master (mailman_core_shared_runners)."""

from __future__ import annotations

import re

import pytest
import testinfra

# Every runner a default start runs (nntp is off).
RUNNERS = {
    "archive", "bounces", "command", "digest", "in", "lmtp", "out",
    "pipeline", "rest", "retry", "task", "virgin",
}  # fmt: skip


def runners(host: testinfra.host.Host) -> dict[str, int]:
    """Runner name -> pid of the master's children, from the titles they give themselves.

    The REST runner's gunicorn renames it "gunicorn: master [...]".
    """
    table = [
        line.split(None, 2)
        for line in host.check_output("ps -u list -o pid=,ppid=,args=").splitlines()
    ]
    master = [pid for pid, _, args in table if args.strip() == "mailman: master"]
    assert len(master) == 1, f"mailman: master processes: {master}"
    found = {}
    for pid, ppid, args in table:
        name = re.search(r"runner \[(\w+)\]", args)
        if ppid != master[0]:
            continue
        if args.startswith("gunicorn: master"):
            found["rest"] = int(pid)
        elif name:
            found[name.group(1)] = int(pid)
    return found


def anonymous_kb(host: testinfra.host.Host, pid: int) -> tuple[int, int]:
    """(Anonymous, Pss_Anon) of a process; read as its owner (no CAP_SYS_PTRACE here)."""
    rollup = host.check_output(f"runuser -u list -- cat /proc/{pid}/smaps_rollup")
    fields = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:]}
    return fields["Anonymous"], fields["Pss_Anon"]


def all_runners(host: testinfra.host.Host, timeout: int = 60) -> set[str]:
    """The runners under the master, once all are there (a runner the master
    is starting again, or one that has not named itself yet, is waited for)."""
    found: set[str] = set()
    for _ in range(timeout):
        found = set(runners(host))
        if found == RUNNERS:
            break
        host.run("sleep 1")
    return found


def test_every_runner_runs_under_the_preloading_master(host: testinfra.host.Host) -> None:
    unit = host.check_output("systemctl show mailman3 --property ExecStart")
    assert "/usr/local/lib/listserver/mailman-master.py" in unit
    assert all_runners(host) == RUNNERS


def test_runners_share_their_memory_with_the_master(host: testinfra.host.Host) -> None:
    """Forked, not exec'd: most of a runner's anonymous memory is shared.

    An exec'd runner owns all of its anonymous pages (Pss_Anon = Anonymous).
    """
    for name, pid in runners(host).items():
        anonymous, proportional = anonymous_kb(host, pid)
        assert proportional < 0.7 * anonymous, f"{name}: {proportional} of {anonymous} kB own"


def test_a_runner_told_to_restart_is_forked_again(host: testinfra.host.Host) -> None:
    """SIGUSR1 asks a runner to restart; the master forks a new one.

    (Only Mailman 3.3.10 also restarts a crashed runner; 3.3.8 does not.)
    """
    before = runners(host)["virgin"]
    host.run(f"kill -USR1 {before}")
    for _ in range(30):
        after = runners(host).get("virgin")
        if after and after != before:
            return
        host.run("sleep 1")
    raise AssertionError("the master did not start the virgin runner again")


def children_of_master(host: testinfra.host.Host) -> dict[int, str]:
    """Pid -> command line of the master's children (empty while there is no master)."""
    table = [
        line.split(None, 2)
        for line in host.check_output("ps -u list -o pid=,ppid=,args=").splitlines()
    ]
    master = [pid for pid, _, args in table if args.strip() == "mailman: master"]
    return {int(pid): args for pid, ppid, args in table if master and ppid == master[0]}


def restart_and_wait(host: testinfra.host.Host, expect: int) -> None:
    host.run_expect([0], "systemctl restart mailman3")
    for _ in range(90):
        rest = host.run(
            "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 8001))'"
        )
        if len(children_of_master(host)) >= expect and rest.rc == 0:
            return
        host.run("sleep 1")
    raise AssertionError(f"mailman3 did not come back: {children_of_master(host)}")


def test_an_unproven_mailman_falls_back_to_the_stock_master(host: testinfra.host.Host) -> None:
    """On a Mailman release the patches were not proven on, the stock master runs.

    The release looks unproven through the wrapper's LISTSERVER_MAILMAN_PROVEN.
    """
    dropin = "/etc/systemd/system/mailman3.service.d/zz-unproven.conf"
    since = host.check_output("date +%s")
    host.run_expect(
        [0],
        f"printf '[Service]\\nEnvironment=LISTSERVER_MAILMAN_PROVEN=0.0\\n' > {dropin}"
        " && systemctl daemon-reload",
    )
    try:
        restart_and_wait(host, len(RUNNERS))
        journal = host.check_output(f"journalctl -u mailman3 --since @{since} -o cat")
        assert "is not a version this wrapper was proven on (0.0)" in journal
        assert "starting Mailman's stock master" in journal
        # Exec'd, as `mailman start` runs them: a runner owns all of its
        # anonymous memory (gunicorn, the REST runner, shares with its workers).
        children = children_of_master(host)
        assert len(children) == len(RUNNERS), children
        for pid, args in children.items():
            anonymous, proportional = anonymous_kb(host, pid)
            if not args.startswith("gunicorn"):
                assert proportional >= 0.9 * anonymous, f"{args}: {proportional} of {anonymous} kB"
    finally:
        host.run_expect([0], f"rm -f {dropin} && systemctl daemon-reload")
        restart_and_wait(host, len(RUNNERS))
    assert all_runners(host) == RUNNERS


@pytest.mark.parametrize("runner", ["in", "pipeline", "out", "virgin"])
def test_the_runners_on_a_posts_way_wake_every_tenth_of_a_second(
    host: testinfra.host.Host, runner: str
) -> None:
    shown = host.check_output(f"runuser -u list -- mailman conf -s runner.{runner} -k sleep_time")
    assert shown.strip() == "0.1s"
