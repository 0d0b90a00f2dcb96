"""The committed .terraform.lock.hcl files accept both provider packages.

`terraform init` installs the OpenStack provider either from registry.terraform.io
(a user with internet access) or from the filesystem mirror that
tools/terraform-provider-build fills (this machine, CI, `make terraform-test`).
It refuses a package whose hash the lock file does not record, so every lock file
(terraform/ and each module, which `make terraform-test` initialises on its own)
must carry the registry's published `zh:` hashes and the local build's `h1:` hash,
for the version the build script builds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import ROOT

PROVIDER = "registry.terraform.io/terraform-provider-openstack/openstack"
TERRAFORM_ROOT = ROOT / "terraform"
BUILD_SCRIPT = ROOT / "tools" / "terraform-provider-build"
# One zh: (SHA-256 of a release file) per line of the release's SHA256SUMS:
# 3.4.0 publishes 14 platform archives and the registry manifest
# (terraform-registry-manifest.json, protocol 5.0).
REGISTRY_ZH_HASHES = 15


@dataclass(frozen=True)
class Lock:
    """The provider block of one lock file."""

    version: str
    hashes: frozenset[str]

    def scheme(self, prefix: str) -> frozenset[str]:
        return frozenset(h for h in self.hashes if h.startswith(prefix))


def configurations() -> list[Path]:
    """terraform/ and every module: each is initialised (and locked) on its own."""
    return [TERRAFORM_ROOT, *sorted(p.parent for p in TERRAFORM_ROOT.glob("modules/*/versions.tf"))]


def read_lock(directory: Path) -> Lock:
    text = (directory / ".terraform.lock.hcl").read_text()
    blocks = re.findall(r'provider "([^"]+)" \{(.*?)\n\}', text, re.DOTALL)
    assert [name for name, _ in blocks] == [PROVIDER], f"{directory}: one block, for {PROVIDER}"
    body = blocks[0][1]
    version = re.search(r'^\s*version\s*=\s*"([^"]+)"', body, re.MULTILINE)
    assert version, f"{directory}: no version"
    hashes = re.findall(r'"((?:h1|zh):[^"]+)"', body)
    assert len(hashes) == len(set(hashes)), f"{directory}: a hash is listed twice"
    return Lock(version.group(1), frozenset(hashes))


def build_version() -> str:
    """The provider version tools/terraform-provider-build builds by default."""
    found = re.search(r"OPENSTACK_PROVIDER_VERSION:-([0-9.]+)\}", BUILD_SCRIPT.read_text())
    assert found, "tools/terraform-provider-build: default OPENSTACK_PROVIDER_VERSION not found"
    return found.group(1)


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_configuration_has_a_lock_file() -> None:
    missing = [rel(d) for d in configurations() if not (d / ".terraform.lock.hcl").is_file()]
    assert not missing, f"no .terraform.lock.hcl in {missing}: run make terraform-lock"


def test_root_lock_has_the_registry_hashes_of_every_platform() -> None:
    lock = read_lock(TERRAFORM_ROOT)
    assert lock.version == build_version()
    zh = lock.scheme("zh:")
    assert len(zh) == REGISTRY_ZH_HASHES, (
        f"terraform/.terraform.lock.hcl has {len(zh)} zh: hashes, the registry publishes "
        f"{REGISTRY_ZH_HASHES} for {lock.version}: re-record them (terraform/README.md)"
    )
    assert all(re.fullmatch(r"zh:[0-9a-f]{64}", h) for h in zh)
    assert lock.scheme("h1:"), "no h1: hash: the local build (make terraform-test) would be refused"


@pytest.mark.parametrize("directory", configurations()[1:], ids=rel)
def test_module_lock_matches_the_root_lock(directory: Path) -> None:
    root, lock = read_lock(TERRAFORM_ROOT), read_lock(directory)
    assert lock.version == root.version
    assert lock.scheme("zh:") == root.scheme("zh:"), (
        f"zh: hashes differ from terraform/'s: missing {sorted(root.hashes - lock.hashes)}, "
        f"extra {sorted(lock.hashes - root.hashes)}"
    )
    assert lock.scheme("h1:") == root.scheme("h1:"), "h1: hashes differ from terraform/'s"
