"""The packages_missing module, run by ansible against this machine's dpkg database."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from helpers import ROOT

ABSENT = "listserver-no-such-package"


def load_module() -> ModuleType:
    path = ROOT / "plugins" / "modules" / "packages_missing.py"
    spec = importlib.util.spec_from_file_location("packages_missing", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def missing(tmp_path: Path, names: list[str], *flags: str) -> list[str]:
    inventory = tmp_path / "hosts.json"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                        }
                    }
                }
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="json",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    run = subprocess.run(
        [
            "ansible",
            "localhost",
            "-i",
            str(inventory),
            "-m",
            "listserver.mailman3.packages_missing",
            "-a",
            json.dumps({"names": names}),
            *flags,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["changed"] is False
    return list(result["missing"])


def test_installed_packages_are_not_missing_and_unknown_ones_are(tmp_path: Path) -> None:
    assert missing(tmp_path, ["dpkg", ABSENT, "bash"]) == [ABSENT]


def test_a_package_dpkg_knows_but_has_not_installed_is_missing() -> None:
    # Removed with its conffiles left, or an interrupted installation.
    output = "postfix=config-files\npostfix-pcre=half-installed\nbash=installed\n"
    assert load_module().installed(output) == {"bash"}


def test_check_mode_still_answers(tmp_path: Path) -> None:
    assert missing(tmp_path, [ABSENT, "dpkg"], "--check") == [ABSENT]


def test_no_names_no_question(tmp_path: Path) -> None:
    assert missing(tmp_path, []) == []
