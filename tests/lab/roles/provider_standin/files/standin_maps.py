#!/usr/bin/python3
"""Rebuild the stand-in's Postfix maps from the Mail API double's alias state.

Writes, for the one account and each alias ``NAME`` of it (``NAME@DOMAIN``):

- ``recipients``: the addresses Postfix accepts for the mail domain (``ADDRESS OK``);
- ``sender_logins``: who may send as each address (``ADDRESS ACCOUNT``);

then ``postmap``s each changed file and reloads a running Postfix. Prints ``changed``
or ``unchanged`` so that a caller can tell. Run by a systemd path unit whenever the
state file changes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ALIAS = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")


def read_aliases(path: Path) -> list[str]:
    if not path.exists():
        return []
    document = json.loads(path.read_text())
    names = document.get("aliases", []) if isinstance(document, dict) else document
    return sorted({str(name).lower() for name in names if ALIAS.match(str(name).lower())})


def write_map(path: Path, lines: list[str]) -> bool:
    """Write the source file and its hash map when the content changed."""
    content = "".join(f"{line}\n" for line in lines)
    db = path.with_name(path.name + ".db")
    if path.exists() and db.exists() and path.read_text() == content:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(content)
    tmp.replace(path)
    subprocess.run(["/usr/sbin/postmap", f"hash:{path}"], check=True)
    return True


def stamp(path: Path) -> tuple[int, int, int] | None:
    """What identifies one version of the state file (the double replaces it by a rename)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def rebuild(config: dict[str, Any]) -> bool:
    account = str(config["account"]).lower()
    domain = str(config["domain"]).lower()
    map_dir = Path(config["map_dir"])
    addresses = [account] + [
        f"{name}@{domain}" for name in read_aliases(Path(config["aliases_file"]))
    ]
    addresses = list(dict.fromkeys(addresses))
    changed = write_map(map_dir / "recipients", [f"{address} OK" for address in addresses])
    changed |= write_map(
        map_dir / "sender_logins", [f"{address} {account}" for address in addresses]
    )
    return changed


def reload_postfix() -> None:
    """Reload a running Postfix (its daemons would also notice the new maps by themselves)."""
    running = subprocess.run(["/usr/sbin/postfix", "status"], capture_output=True, check=False)
    if running.returncode == 0:
        subprocess.run(["/usr/sbin/postfix", "reload"], check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, required=True, help="the stand-in's JSON settings")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    state = Path(config["aliases_file"])
    changed = False
    # A change made while this runs triggers no new run of the path unit:
    # build again until the state file stayed the same during a build.
    while True:
        before = stamp(state)
        if rebuild(config):
            changed = True
            reload_postfix()
        if stamp(state) == before:
            break
    print("changed" if changed else "unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
