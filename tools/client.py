#!/usr/bin/env python3
"""Deploy and destroy one client's list server; everything client-specific is in its directory.

A client directory (clients/<name>/, see clients/example/README.md) holds:

    terraform.tfvars                 the stack: inputs of terraform/
    inventory/hosts.yml              groups and connection settings
    inventory/group_vars/all/        listserver.yml, vault.yml (ansible-vault)
    terraform.tfstate, .terraform/   written here (local backend): keep the state
    inventory/terraform.yml          written here from `terraform output`

Steps, each a subcommand:
    preflight   tools/openstack_preflight.py with the tfvars' flavor, image, network, ...
    stack       preflight, terraform init + apply in the client's state, then inventory
    inventory   terraform output -raw ansible_inventory > inventory/terraform.yml
    configure   playbooks/reachable.yml, site.yml and aliases.yml on that inventory
    deploy      stack, then configure
    destroy     terraform destroy, then drop the written inventory

Terraform is $TF (default `terraform`); `make deploy` sets it from tools/terraform-provider-build,
with TF_CLI_CONFIG_FILE too when the provider is built locally (no registry access); otherwise
init takes the provider from registry.terraform.io. OpenStack credentials: openrc (OS_*) or
OS_CLOUD. Extra Terraform inputs: TF_VAR_* (the CI sets stack_name that way). Ansible options
after `--`.

    tools/client.py deploy clients/example
    tools/client.py configure clients/example -- --check --diff
    tools/client.py destroy --auto-approve clients/example
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM_ROOT = ROOT / "terraform"
PLAYBOOKS = ("reachable.yml", "site.yml", "aliases.yml")
STEPS = ("preflight", "stack", "inventory", "configure", "deploy", "destroy")
# What the preflight needs from the tfvars, after Terraform applied its defaults.
PREFLIGHT_EXPRESSION = (
    "jsonencode({flavor = var.flavor_name, image = var.image_name, network = var.network_name,"
    " key_name = var.ssh_key_name,"
    " volume_size = var.data_volume_enabled ? var.data_volume_size : 0})"
)


class ClientError(Exception):
    """A problem the user fixes in the client directory; printed as one line."""


class Client:
    """One client directory and the commands that act on it."""

    def __init__(self, directory: Path, terraform: str) -> None:
        self.dir = directory.resolve()
        self.terraform = terraform
        self.tfvars = self.dir / "terraform.tfvars"
        self.inventory_dir = self.dir / "inventory"
        self.written_inventory = self.inventory_dir / "terraform.yml"

    def check(self, *, need_vault: bool = False) -> None:
        """Fail early, naming the missing file."""
        if not self.tfvars.is_file():
            raise ClientError(f"{self.tfvars} is missing (start from clients/example)")
        if not (self.inventory_dir / "hosts.yml").is_file():
            raise ClientError(f"{self.inventory_dir / 'hosts.yml'} is missing")
        vault = self.inventory_dir / "group_vars" / "all" / "vault.yml"
        if need_vault and not vault.is_file():
            raise ClientError(
                f"{vault} is missing: copy vault.yml.example, fill it, ansible-vault encrypt it"
            )

    def tf_env(self) -> dict[str, str]:
        """Terraform's working data per client, never in terraform/ itself."""
        return {
            **os.environ,
            "TF_DATA_DIR": str(self.dir / ".terraform"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
        }

    def tf(self, *args: str, capture: bool = False, stdin: str | None = None) -> str:
        """Run terraform on the shared root with this client's data and state."""
        argv = [self.terraform, f"-chdir={TERRAFORM_ROOT}", *args]
        result = subprocess.run(
            argv, env=self.tf_env(), check=True, text=True, capture_output=capture, input=stdin
        )
        return result.stdout if capture else ""

    def init(self) -> None:
        self.tf(
            "init",
            "-reconfigure",
            "-lockfile=readonly",
            f"-backend-config=path={self.dir / 'terraform.tfstate'}",
        )

    def preflight_args(self) -> list[str]:
        """openstack_preflight.py's options, from the tfvars as Terraform reads them."""
        out = self.tf(
            "console", f"-var-file={self.tfvars}", capture=True, stdin=PREFLIGHT_EXPRESSION
        )
        # The console prints the JSON as a quoted HCL string, whose escapes JSON shares.
        values = json.loads(json.loads(out.strip()))
        return preflight_argv(values)

    def preflight(self) -> None:
        argv = [sys.executable, str(ROOT / "tools" / "openstack_preflight.py")]
        subprocess.run([*argv, *self.preflight_args()], check=True)

    def apply(self, auto_approve: bool) -> None:
        self.tf("apply", f"-var-file={self.tfvars}", *(["-auto-approve"] if auto_approve else []))

    def write_inventory(self) -> None:
        text = self.tf("output", "-raw", "ansible_inventory", capture=True)
        self.written_inventory.write_text(
            "# Written by tools/client.py from `terraform output`; do not edit.\n" + text
        )
        outputs = json.loads(self.tf("output", "-json", capture=True) or "{}")
        address = {k: outputs.get(k, {}).get("value") or "-" for k in ("ipv4", "ipv6")}
        print(f"wrote {self.written_inventory}")
        print(f"DNS: point the web UI's name at {address['ipv4']} (A), {address['ipv6']} (AAAA)")

    def configure(self, ansible_args: list[str]) -> None:
        playbooks = [str(ROOT / "playbooks" / p) for p in PLAYBOOKS]
        argv = ["ansible-playbook", "-i", str(self.inventory_dir), *playbooks]
        subprocess.run([*argv, *self.vault_args(ansible_args), *ansible_args], check=True)

    def vault_args(self, ansible_args: list[str]) -> list[str]:
        """Ask for the vault password once, unless it comes from elsewhere."""
        vault = self.inventory_dir / "group_vars" / "all" / "vault.yml"
        encrypted = vault.is_file() and vault.read_text().startswith("$ANSIBLE_VAULT")
        given = os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE") or any(
            a.startswith(("--vault", "--ask-vault", "-J")) for a in ansible_args
        )
        return ["--ask-vault-pass"] if encrypted and not given else []

    def destroy(self, auto_approve: bool) -> None:
        self.tf("destroy", f"-var-file={self.tfvars}", *(["-auto-approve"] if auto_approve else []))
        self.written_inventory.unlink(missing_ok=True)


def preflight_argv(values: dict[str, object]) -> list[str]:
    """Command-line options of tools/openstack_preflight.py for these stack inputs."""
    argv = [
        f"--flavor={values['flavor']}",
        f"--image={values['image']}",
        f"--network={values['network']}",
        f"--volume-size={values['volume_size']}",
    ]
    if values.get("key_name"):
        argv.append(f"--key-name={values['key_name']}")
    return argv


def main(argv: list[str] | None = None) -> int:
    """Entry point: the exit status of the first step that fails, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=STEPS)
    parser.add_argument("client_dir", type=Path, help="the client's directory, clients/<name>")
    parser.add_argument(
        "--auto-approve", action="store_true", help="no Terraform confirmation (CI)"
    )
    parser.add_argument("ansible_args", nargs="*", help="after --: options for ansible-playbook")
    args = parser.parse_args(argv)
    client = Client(args.client_dir, os.environ.get("TF", "terraform"))
    step: str = args.step
    try:
        client.check(need_vault=step in ("configure", "deploy"))
        if step != "configure":
            client.init()
        if step in ("preflight", "stack", "deploy"):
            client.preflight()
        if step in ("stack", "deploy"):
            client.apply(args.auto_approve)
        if step in ("stack", "inventory", "deploy"):
            client.write_inventory()
        if step in ("configure", "deploy"):
            client.configure(args.ansible_args)
        if step == "destroy":
            client.destroy(args.auto_approve)
    except ClientError as exc:
        print(f"client: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"client: {Path(str(exc.cmd[0])).name} failed (exit {exc.returncode})")
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
