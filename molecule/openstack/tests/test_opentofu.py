"""The same stack with OpenTofu (built by tools/terraform-provider-build): apply, destroy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import left_after, make_client


def test_opentofu_applies_and_destroys_the_stack(
    tmp_path: Path, os_env: dict[str, str], public_key: str, conn: Any
) -> None:
    client = make_client(tmp_path, os_env, public_key, opentofu=True)
    assert client.env["TF"].endswith("/tofu"), client.env["TF"]
    name = f"listserver-lab-{client.env['TF_VAR_stack_name']}"
    try:
        client.step("stack", "--auto-approve")
        server = conn.compute.find_server(name)
        assert server is not None
        assert conn.compute.get_server(server.id).status == "ACTIVE"
    finally:
        client.step("destroy", "--auto-approve")
    assert left_after(conn, name) == {}
