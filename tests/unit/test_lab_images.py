"""The lab image of the OpenStack stand-in holds every package its roles install."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "tests" / "lab" / "roles"


def package_set(name: str) -> set[str]:
    lines = (ROOT / "lab" / "packages" / name).read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def role_packages() -> set[str]:
    objectstore = yaml.safe_load((ROLES / "objectstore_standin/tasks/install.yml").read_text())
    s3 = yaml.safe_load((ROLES / "objectstore_standin/tasks/s3_tls.yml").read_text())
    openstack = yaml.safe_load((ROLES / "openstack_standin/vars/main.yml").read_text())
    apt_tasks = [t["ansible.builtin.apt"] for t in objectstore + s3 if "ansible.builtin.apt" in t]
    names: set[str] = set()
    for task in apt_tasks:
        names.update([task["name"]] if isinstance(task["name"], str) else task["name"])
    return names | set(openstack["__openstack_standin_packages"])


def test_openstack_image_covers_the_stand_in_roles() -> None:
    assert role_packages() - package_set("openstack") == set()


def test_openstack_image_lists_nothing_the_roles_do_not_install() -> None:
    assert package_set("openstack") - role_packages() == set()
