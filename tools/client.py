#!/usr/bin/env python3
"""Deploy and destroy one client's list server; everything client-specific is in its directory.

A client directory (clients/<name>/, see clients/example/README.md) holds:

    terraform.tfvars                 the stack: inputs of terraform/
    inventory/hosts.yml              groups and connection settings
    inventory/group_vars/all/        listserver.yml, vault.yml (ansible-vault)
    terraform.tfstate, .terraform/   written here (local backend): keep the state
    inventory/terraform.yml          written here from `terraform output`
    inventory/group_vars/all/terraform_vault.yml
                                     written here, ansible-vault encrypted, when the stack
                                     has a backup target: its application credential secret

Steps, each a subcommand:
    preflight   tools/openstack_preflight.py with the tfvars' flavor, image, network, ...
    stack       preflight, terraform init + apply in the client's state, then inventory
    inventory   terraform output -raw ansible_inventory > inventory/terraform.yml, and
                the backup credential's secret, encrypted, to group_vars/all/terraform_vault.yml
    configure   playbooks/reachable.yml, site.yml and aliases.yml on that inventory
    deploy      stack, then configure
    destroy     terraform destroy, then drop the written inventory
    backup      playbooks/backup.yml: a backup now (roles/backup)
    restore     playbooks/restore.yml: rebuild the host from a snapshot
                (-- -e backup_restore_snapshot=<id>; default the latest)
    adopt       playbooks/adopt.yml: what adopting a guide-built server would move and
                change (-- -e adopt_from=<address>; `make adopt` gives it)
    adopt-move  playbooks/adopt_move.yml: the move itself

Terraform is $TF (default `terraform`); `make deploy` sets it from tools/terraform-provider-build,
with TF_CLI_CONFIG_FILE too when the provider is built locally (no registry access); otherwise
init takes the provider from registry.terraform.io. OpenStack credentials: openrc (OS_*) or
OS_CLOUD. Extra Terraform inputs: TF_VAR_* (the CI sets stack_name that way). Ansible options
after `--`. The vault password encrypts the backup secret with the client's vault.yml password:
from ANSIBLE_VAULT_PASSWORD_FILE, or ANSIBLE_VAULT_PASSWORD (tools/vault-password-env), or asked
once (and checked against vault.yml) and then used for the playbooks of `deploy` too.

    tools/client.py deploy clients/example
    tools/client.py configure clients/example -- --check --diff
    tools/client.py destroy --auto-approve clients/example
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM_ROOT = ROOT / "terraform"
PLAYBOOKS = ("reachable.yml", "site.yml", "aliases.yml")
VAULT_PASSWORD_ENV = ROOT / "tools" / "vault-password-env"
# The Terraform output holding the backup credential's secret, and the vault
# variable the inventory's backup_swift_application_credential_secret refers to.
BACKUP_CREDENTIAL_OUTPUT = "backup_swift_application_credential_secret"
BACKUP_CREDENTIAL_VAULT_VARIABLE = "vault_backup_swift_application_credential_secret"
STEPS = (
    "preflight",
    "stack",
    "inventory",
    "configure",
    "deploy",
    "destroy",
    "backup",
    "restore",
    "adopt",
    "adopt-move",
)
# Steps that only run a playbook on the inventory: no Terraform.
PLAYBOOK_STEPS = {
    "configure": PLAYBOOKS,
    "backup": ("backup.yml",),
    "restore": ("restore.yml",),
    "adopt": ("adopt.yml",),
    "adopt-move": ("adopt_move.yml",),
}
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
        self.vault = self.inventory_dir / "group_vars" / "all" / "vault.yml"
        self.written_vault = self.inventory_dir / "group_vars" / "all" / "terraform_vault.yml"
        # The vault password asked for here, handed to ansible-vault and
        # ansible-playbook in their environment (tools/vault-password-env).
        self.vault_password_env: dict[str, str] = {}

    def check(self, *, need_vault: bool = False) -> None:
        """Fail early, naming the missing file."""
        if not self.tfvars.is_file():
            raise ClientError(f"{self.tfvars} is missing (start from clients/example)")
        if not (self.inventory_dir / "hosts.yml").is_file():
            raise ClientError(f"{self.inventory_dir / 'hosts.yml'} is missing")
        if need_vault and not self.vault.is_file():
            raise ClientError(
                f"{self.vault} is missing: copy vault.yml.example, fill it,"
                " ansible-vault encrypt it"
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
        secret = outputs.get(BACKUP_CREDENTIAL_OUTPUT, {}).get("value")
        if secret:
            self.write_secret(str(secret))
            print(f"wrote {self.written_vault} (ansible-vault encrypted)")
        elif self.written_vault.exists():
            # The stack no longer has a backup target: its credential is gone.
            self.written_vault.unlink()
            print(f"removed {self.written_vault}: the stack has no backup credential")
        print(f"DNS: point the web UI's name at {address['ipv4']} (A), {address['ipv6']} (AAAA)")

    def write_secret(self, secret: str) -> None:
        """The backup credential's secret, ansible-vault encrypted with the client's vault
        password, mode 0600; the plain text only ever goes through a pipe."""
        text = vault_file_text(secret)
        self.written_vault.parent.mkdir(parents=True, exist_ok=True)
        partial = self.written_vault.with_name(f".{self.written_vault.name}.partial")
        partial.unlink(missing_ok=True)
        argv = ["ansible-vault", "encrypt", f"--output={partial}", "-"]
        env = {**os.environ, **self.vault_env()}
        try:
            subprocess.run(argv, env=env, check=True, text=True, input=text)
            partial.chmod(0o600)
            if not partial.read_text().startswith("$ANSIBLE_VAULT"):
                raise ClientError(f"ansible-vault did not encrypt {self.written_vault}")
            partial.replace(self.written_vault)
        finally:
            partial.unlink(missing_ok=True)

    def vault_env(self) -> dict[str, str]:
        """Environment that gives ansible-vault/-playbook the vault password without a prompt:
        nothing when ANSIBLE_VAULT_PASSWORD_FILE is set, else tools/vault-password-env with
        ANSIBLE_VAULT_PASSWORD, asked for once when that is not set either."""
        if os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE"):
            return {}
        if not self.vault_password_env:
            password = os.environ.get("ANSIBLE_VAULT_PASSWORD") or self.ask_vault_password()
            self.vault_password_env = {
                "ANSIBLE_VAULT_PASSWORD": password,
                "ANSIBLE_VAULT_PASSWORD_FILE": str(VAULT_PASSWORD_ENV),
            }
        return self.vault_password_env

    def ask_vault_password(self) -> str:
        """The password of vault.yml, checked by opening it; typed twice when there is none."""
        password = getpass.getpass(f"Vault password ({self.vault}): ")
        if not password:
            raise ClientError("an empty vault password cannot encrypt the backup secret")
        if encrypted(self.vault):
            env = {
                **os.environ,
                "ANSIBLE_VAULT_PASSWORD": password,
                "ANSIBLE_VAULT_PASSWORD_FILE": str(VAULT_PASSWORD_ENV),
            }
            opened = subprocess.run(
                ["ansible-vault", "view", str(self.vault)],
                env=env,
                check=False,
                capture_output=True,
                text=True,
            )
            if opened.returncode != 0:
                raise ClientError(f"that password does not open {self.vault}")
        elif getpass.getpass("Confirm the vault password: ") != password:
            raise ClientError("the two vault passwords differ")
        return password

    def configure(self, ansible_args: list[str], names: tuple[str, ...] = PLAYBOOKS) -> None:
        playbooks = [str(ROOT / "playbooks" / p) for p in names]
        argv = ["ansible-playbook", "-i", str(self.inventory_dir), *playbooks]
        env = {**os.environ, **self.vault_password_env}
        subprocess.run([*argv, *self.vault_args(ansible_args), *ansible_args], env=env, check=True)

    def vault_args(self, ansible_args: list[str]) -> list[str]:
        """Ask for the vault password once, unless it comes from elsewhere."""
        needed = encrypted(self.vault) or encrypted(self.written_vault)
        given = (
            os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
            or self.vault_password_env
            or any(a.startswith(("--vault", "--ask-vault", "-J")) for a in ansible_args)
        )
        return ["--ask-vault-pass"] if needed and not given else []

    def destroy(self, auto_approve: bool) -> None:
        self.tf("destroy", f"-var-file={self.tfvars}", *(["-auto-approve"] if auto_approve else []))
        self.written_inventory.unlink(missing_ok=True)
        self.written_vault.unlink(missing_ok=True)


def encrypted(path: Path) -> bool:
    """Whether path is an ansible-vault encrypted file."""
    return path.is_file() and path.read_text().startswith("$ANSIBLE_VAULT")


def vault_file_text(secret: str) -> str:
    """The YAML of terraform_vault.yml: the secret as a double-quoted scalar (JSON's escapes
    are YAML's), !unsafe so that Ansible never reads it as a template."""
    return (
        "# Written by tools/client.py from `terraform output`; do not edit.\n"
        f"{BACKUP_CREDENTIAL_VAULT_VARIABLE}: !unsafe {json.dumps(secret)}\n"
    )


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
        client.check(need_vault=step in ("deploy", *PLAYBOOK_STEPS))
        if step in PLAYBOOK_STEPS and step != "configure":
            client.configure(args.ansible_args, PLAYBOOK_STEPS[step])
            return 0
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
