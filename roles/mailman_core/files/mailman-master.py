"""Mailman's master with runners forked from one pre-loaded interpreter.

Stock Mailman forks and then *execs* each runner: every one of the dozen
runners imports Mailman from scratch, about 65 MB of private memory each.
This wrapper imports Mailman's modules once, moves them out of the garbage
collector's reach (gc.freeze: a collection would otherwise touch, and so
copy, every page) and lets the master fork the runners without exec, so the
code and the module objects stay shared (copy-on-write) between all of them.
Measured on Debian 13: 13 processes, 784 MB (Pss) stock, 309 MB forked.

Only the process tree changes; the runners are Mailman's own, started with
the same arguments through `mailman.bin.runner.main`. The master loads the
configuration only (initialize_1); each runner performs the remaining
initialization steps itself (logging, database, plugins), as an exec'd
runner would. A changed mailman.cfg therefore needs a restart of the
service, not a reload (the runners inherit the master's configuration).

The patches touch Mailman's private start-up code, so they are applied only
on the Mailman versions they were proven on (PROVEN, Debian 12 and 13) and
only when every name they replace is there. Otherwise the stock master runs,
unpatched, and says why in the journal: the runners are then exec'd as with
`mailman start`, using more memory but nothing else changes.
"""

import contextlib
import gc
import importlib
import os
import pkgutil
import signal
import sys

import mailman
import mailman.bin.master as master
import mailman.bin.runner as runner
import mailman.core.initialize as initialize
import mailman.version

# Mailman releases the patches were proven on (Debian 12: 3.3.8, 13: 3.3.10).
# The environment variable exists for the fallback's test.
PROVEN = tuple(os.environ.get("LISTSERVER_MAILMAN_PROVEN", "3.3.8,3.3.10").split(","))
# What the patches replace or call, checked before any is applied.
PATCHED = (
    (master, "initialize"),
    (master.Loop, "_start_runner"),
    (master, "main"),
    (runner, "initialize"),
    (runner, "main"),
    (initialize, "initialize_1"),
    (initialize, "initialize_2"),
    (initialize, "initialize_3"),
)

# Signals the master handles; a forked runner starts from the defaults, as
# after exec, and then installs its own handlers.
SKIP = {"tests", "testing", "alembic", "docs", "__main__"}
MASTER_SIGNALS = (
    signal.SIGALRM,
    signal.SIGCHLD,
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGUSR1,
)


def preload() -> None:
    """Import every module a runner may need.

    Not the test suites, and not the database migrations: alembic's env.py
    initializes Mailman when imported.
    """
    names = [m.name for m in pkgutil.walk_packages(mailman.__path__, "mailman.")]
    for name in [*names, "mailman_hyperkitty", "psycopg2"]:
        if any(part in SKIP for part in name.split(".")):
            continue
        # Modules for what this site does not use (other databases) may fail.
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def set_title(title: str) -> None:
    """Name the process in ps (Mailman 3.3.10 does it itself, 3.3.8 does not)."""
    with contextlib.suppress(ImportError):
        import setproctitle

        setproctitle.setproctitle(title)


def run_runner(spec: str, config_file: str) -> None:
    """Body of a forked runner: what `bin/runner -C FILE --runner=SPEC` does."""
    for signum in MASTER_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    set_title(f"mailman: runner [{spec.split(':')[0]}]")
    os.environ["MAILMAN_UNDER_MASTER_CONTROL"] = "1"

    def initialize_rest(config_path: object = None, propagate_logs: object = None) -> None:
        initialize.initialize_2(propagate_logs=propagate_logs)
        initialize.initialize_3()

    runner.initialize = initialize_rest
    sys.argv = ["runner", "-C", config_file, f"--runner={spec}"]
    status = 1
    try:
        runner.main()
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def start_runner(self: master.Loop, spec: str) -> int:
    pid = os.fork()
    if pid:
        return pid
    config_file = self._config_file or master.config.filename
    run_runner(spec, config_file)
    raise AssertionError("unreachable")


def unproven() -> str:
    """Why the patches must not be applied here; empty when they may."""
    version = mailman.version.VERSION
    if version not in PROVEN:
        return (
            f"Mailman {version} is not a version this wrapper was proven on ({', '.join(PROVEN)})"
        )
    missing = [
        f"{getattr(owner, '__name__', owner)}.{name}"
        for owner, name in PATCHED
        if not hasattr(owner, name)
    ]
    return f"Mailman {version} lacks {', '.join(missing)}" if missing else ""


def stock(reason: str) -> None:
    print(
        f"mailman-master: {reason}; starting Mailman's stock master (runners exec'd)",
        file=sys.stderr,
        flush=True,
    )
    set_title("mailman: master")
    master.main()


def main() -> None:
    reason = unproven()
    if reason:
        stock(reason)
        return
    preload()
    gc.collect()
    gc.freeze()
    # The master needs the configuration only; the database and the rest are
    # set up by each runner after the fork.
    master.initialize = lambda config_path=None, propagate_logs=None: initialize.initialize_1(
        config_path
    )
    master.Loop._start_runner = start_runner
    # Mailman 3.3.8's master sleeps in pause() before its wait loop and has
    # no SIGCHLD handler, so a runner that exits stays a zombie until some
    # other signal arrives; 3.3.10 installs this same no-op handler.
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    set_title("mailman: master")
    master.main()


if __name__ == "__main__":
    main()
