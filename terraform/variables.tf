# Inputs of the list server stack, given per client in
# clients/<name>/terraform.tfvars (template: clients/example/terraform.tfvars);
# OpenStack credentials come from the environment (openrc: OS_*, or
# clouds.yaml: OS_CLOUD), never from here.

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name; with stack_name it makes `<name_prefix>-<stack_name>` (for example `listserver-prod`)."
  default     = "listserver"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-24 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen (for example listserver)."
  }
}

variable "stack_name" {
  type        = string
  description = "Name of this stack, unique in the project (for example `prod`, `staging`, `ci-1234`). Several stacks can share one project."

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$", var.stack_name))
    error_message = "stack_name must be 1-24 characters of lower-case letters, digits and hyphens, not starting or ending with a hyphen (for example prod)."
  }
}

variable "created_at" {
  type        = string
  description = "Creation time recorded in the `created-at` metadata (RFC 3339, for example 2025-01-31T12:00:00Z), used by the janitor to expire test stacks. Passed in rather than computed so plans stay stable; empty: no such metadata."
  default     = ""

  validation {
    condition     = var.created_at == "" || can(formatdate("YYYY", var.created_at))
    error_message = "created_at must be empty or an RFC 3339 timestamp such as 2025-01-31T12:00:00Z."
  }
}

variable "ssh_allowed_cidrs" {
  # Checked by modules/secgroup, the one place of its rule.
  type        = list(string)
  description = "CIDRs (IPv4 and/or IPv6, in network form) allowed to reach SSH. No default: to open SSH to the world, write 0.0.0.0/0 and ::/0 deliberately."
}

variable "web_allowed_cidrs" {
  # Checked by modules/secgroup, the one place of its rule.
  type        = list(string)
  description = "CIDRs allowed to reach HTTP and HTTPS. Default: everyone, over IPv4 and IPv6."
  default     = ["0.0.0.0/0", "::/0"]
}

variable "direct_mx" {
  # Checked by modules/secgroup, the one place of its rule.
  type        = bool
  description = "Open port 25 for a server that is the domain's MX itself. Off by default: with the provider's mailbox and relay no port 25 is needed."
  default     = false
}

variable "ssh_public_key" {
  # Checked by modules/keypair, the one place of its rule.
  type        = string
  description = "OpenSSH public key (contents of a .pub file) to upload as the stack's key pair. Set exactly one of ssh_public_key and ssh_key_name."
  default     = null
  # Not a secret itself, but a private key pasted here by mistake must not be
  # printed back in the plan or the logs.
  sensitive = true
}

variable "ssh_key_name" {
  # Checked by modules/keypair, the one place of its rule.
  type        = string
  description = "Name of a key pair already in the project, used instead of uploading one. Set exactly one of ssh_public_key and ssh_key_name."
  default     = null
}

variable "flavor_name" {
  # Checked by modules/instance, the one place of its rule.
  type        = string
  description = "Nova flavor of the server (a1-ram2-disk20-perf1: 1 vCPU, 2 GB, tight for Mailman + PostgreSQL + search; a2-ram4-disk20-perf1 is roomier)."
  default     = "a1-ram2-disk20-perf1"
}

variable "image_name" {
  # Checked by modules/instance, the one place of its rule.
  type        = string
  description = "Name of the public image to boot, looked up at plan time."
  default     = "Debian 13 trixie"
}

variable "network_name" {
  # Checked by modules/instance, the one place of its rule.
  type        = string
  description = "Network the server is attached to (ext-net1 gives public IPv4 and IPv6 on Infomaniak)."
  default     = "ext-net1"
}

variable "ssh_user" {
  # Checked by modules/instance, the one place of its rule.
  type        = string
  description = "Login user of the image (debian on Debian cloud images)."
  default     = "debian"
}

variable "fqdn" {
  # Checked by modules/instance, the one place of its rule.
  type        = string
  description = "Fully qualified host name of the server (for example lists.example.org), set by cloud-init. Empty: the server name."
  default     = ""
}

variable "data_volume_enabled" {
  # Checked by modules/volume, the one place of its rule.
  type        = bool
  description = "Create a separate data volume (PostgreSQL, archives, queues) and attach it to the server, so the data outlives a rebuilt server."
  default     = false
}

variable "data_volume_size" {
  # Checked by modules/volume, the one place of its rule.
  type        = number
  description = "Size of the data volume in GB (used only when data_volume_enabled)."
  default     = 20
}

variable "data_volume_type" {
  # Checked by modules/volume, the one place of its rule.
  type        = string
  description = "Cinder volume type of the data volume (CEPH_1_perf1 on Infomaniak)."
  default     = "CEPH_1_perf1"
}

variable "backup_enabled" {
  # Checked by modules/backup, the one place of its rule.
  type        = bool
  description = "Create a backup target: a Swift container and a restricted application credential the server uses to reach it (restic). Off by default."
  default     = false
}

variable "backup_container_name" {
  # Checked by modules/backup, the one place of its rule.
  type        = string
  description = "Name of the Swift container of the backups (used only when backup_enabled). Empty: `<name_prefix>-<stack_name>-backup`."
  default     = ""
}

variable "backup_credential_roles" {
  # Checked by modules/backup, the one place of its rule.
  type        = list(string)
  description = "Roles of the backup application credential: only what object storage needs (SwiftOperator on Infomaniak). They must be roles the operator running Terraform has."
  default     = ["SwiftOperator"]
}

variable "backup_credential_expires_at" {
  # Checked by modules/backup, the one place of its rule.
  type        = string
  description = "Expiry of the backup application credential (RFC 3339, for example 2026-12-31T23:59:59Z). Empty: it does not expire."
  default     = ""
}

variable "backup_credential_access_rules" {
  # Checked by modules/backup, the one place of its rule.
  type        = bool
  description = "Restrict the backup credential with Keystone access rules to its container on the object-store service. Turn off only if the cloud's object storage refuses such credentials; the roles then are the only limit."
  default     = true
}

variable "backup_swift_account_path" {
  # Checked by modules/backup, the one place of its rule.
  type        = string
  description = "Swift account path the access rules start with, as the object storage service sees requests. Empty: `/v1/AUTH_<project_id>` of the project Terraform works in."
  default     = ""
}

variable "backup_swift_auth_url" {
  type        = string
  description = "Keystone v3 URL the server authenticates at with the backup credential (written to the inventory as backup_swift_auth_url)."
  default     = "https://api.pub1.infomaniak.cloud/identity/v3"

  validation {
    condition     = can(regex("^https://[^/\\s]+(/[^\\s]*)?/v3/?$", var.backup_swift_auth_url))
    error_message = "backup_swift_auth_url must be an https:// Keystone v3 URL ending in /v3, such as https://api.pub1.infomaniak.cloud/identity/v3."
  }
}

variable "inventory_address_family" {
  type        = string
  description = "Which address Ansible connects to: `ipv4` (default; falls back to IPv6 when there is no IPv4) or `ipv6`."
  default     = "ipv4"

  validation {
    condition     = contains(["ipv4", "ipv6"], var.inventory_address_family)
    error_message = "inventory_address_family must be ipv4 or ipv6."
  }
}
