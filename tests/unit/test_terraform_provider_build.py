"""tools/terraform-provider-build: with the registry, nothing is built and nothing redirected.

`make deploy` evals the script's output. When the provider comes from
registry.terraform.io (LISTSERVER_PROVIDER_BUILD=0, or `auto` with the registry
answering) it must print TF alone: no CLI configuration of ours replaces the
user's, and Go is not needed. The build itself is exercised by make terraform-test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from helpers import ROOT

SCRIPT = ROOT / "tools" / "terraform-provider-build"


def run(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LISTSERVER_PROVIDER_BUILD": mode,
        "LISTSERVER_CACHE_DIR": str(tmp_path / "cache"),
        "TF": "/usr/bin/terraform-stand-in",
        "GO": str(tmp_path / "no-go"),  # any build would fail: there is no Go
    }
    return subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, check=False)


def test_registry_mode_prints_only_tf(tmp_path: Path) -> None:
    result = run(tmp_path, "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "TF=/usr/bin/terraform-stand-in\n"
    assert not (tmp_path / "cache" / "terraform-providers").exists()


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, "yes")
    assert result.returncode == 2
    assert "LISTSERVER_PROVIDER_BUILD must be auto, 0 or 1" in result.stderr
    assert result.stdout == ""
