# The example client's stack: inputs of terraform/ (see terraform/variables.tf).
# For a new client copy clients/example to clients/<name> and edit. OpenStack
# credentials are not set here: `source` the project's openrc (or set OS_CLOUD).
# `make deploy CLIENT=<name>` checks the cloud side first with these values
# (tools/openstack_preflight.py: flavor, image, network, key pair, quotas).

# Resources are named <name_prefix>-<stack_name>, e.g. listserver-prod.
stack_name  = "prod"
name_prefix = "listserver"

# Who may reach SSH (Ansible). Required, no default. Use your own addresses;
# opening to the world must be written on purpose: ["0.0.0.0/0", "::/0"].
ssh_allowed_cidrs = ["203.0.113.0/24", "2001:db8:1234::/48"]

# Exactly one of: a public key to upload, or the name of an existing key pair.
ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample admin@example.org"
# ssh_key_name = "my-existing-key"

# Server (defaults shown). a2-ram4-disk20-perf1 leaves room for a search index.
# flavor_name  = "a1-ram2-disk20-perf1"
# image_name   = "Debian 13 trixie"
# network_name = "ext-net1"
# ssh_user     = "debian"
fqdn = "lists.example.org"

# Separate data volume (PostgreSQL, archives, queues) that outlives the server.
data_volume_enabled = true
data_volume_size    = 20
# data_volume_type  = "CEPH_1_perf1"

# Port 25 only if this server is the domain's MX itself (not needed with the
# provider's mailbox + relay design).
# direct_mx = false

# HTTP/HTTPS are open to everyone by default.
# web_allowed_cidrs = ["0.0.0.0/0", "::/0"]

# Recorded as `created-at` metadata for the janitor (tools/janitor.py); CI sets
# it to the run's start time. Leave empty for long-lived stacks.
# created_at = "2025-01-31T12:00:00Z"

# Backups (restic) to the provider's object storage: a Swift container
# (<name_prefix>-<stack_name>-backup) and an application credential for the
# server restricted to that container. `make stack` writes its secret, vault
# encrypted, to inventory/group_vars/all/terraform_vault.yml (terraform/README.md).
# backup_enabled               = true
# backup_credential_expires_at = "2026-12-31T23:59:59Z"

# Address Ansible connects to: "ipv4" (default) or "ipv6".
# inventory_address_family = "ipv4"
