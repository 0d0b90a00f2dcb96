"""tools/openstack_preflight.py without a cloud: what it says when it has no credentials.

Everything it checks in a project (flavor, image, network, key pair, each quota, the
credential forms, a refused credential) is tested against the lab's OpenStack:
molecule/openstack/tests/test_preflight.py.
"""

from __future__ import annotations

import os

import pytest
from helpers import load_script

preflight = load_script("openstack_preflight")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = preflight.main(list(args))
    return code, capsys.readouterr().out.splitlines()


def test_no_credentials_at_all(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml")
    code, out = run(capsys)
    assert code == 1
    assert len(out) == 1
    assert out[0].startswith("configuration: ")
