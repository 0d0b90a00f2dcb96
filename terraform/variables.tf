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
  type        = list(string)
  description = "CIDRs (IPv4 and/or IPv6, in network form) allowed to reach SSH. No default: to open SSH to the world, write 0.0.0.0/0 and ::/0 deliberately."

  validation {
    condition     = length(var.ssh_allowed_cidrs) > 0
    error_message = "ssh_allowed_cidrs must list at least one CIDR (for example your office's 203.0.113.0/24); Ansible needs SSH."
  }

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "Every entry of ssh_allowed_cidrs must be an IPv4 or IPv6 CIDR with a prefix length, for example 203.0.113.7/32 or 2001:db8::/48."
  }

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : !can(cidrhost(c, 0)) || try(cidrhost(c, 0) == split("/", c)[0], false)])
    error_message = "Every entry of ssh_allowed_cidrs must be in network form with compressed lower-case IPv6 (203.0.113.0/24, not 203.0.113.5/24)."
  }
}

variable "web_allowed_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach HTTP and HTTPS. Default: everyone, over IPv4 and IPv6."
  default     = ["0.0.0.0/0", "::/0"]

  validation {
    condition     = length(var.web_allowed_cidrs) > 0 && alltrue([for c in var.web_allowed_cidrs : can(cidrhost(c, 0)) && try(cidrhost(c, 0) == split("/", c)[0], false)])
    error_message = "web_allowed_cidrs must be a non-empty list of IPv4/IPv6 CIDRs in network form, for example [\"0.0.0.0/0\", \"::/0\"]."
  }
}

variable "direct_mx" {
  type        = bool
  description = "Open port 25 for a server that is the domain's MX itself. Off by default: with the provider's mailbox and relay no port 25 is needed."
  default     = false

  validation {
    condition     = var.direct_mx != null
    error_message = "direct_mx must be true or false."
  }
}

variable "ssh_public_key" {
  type        = string
  description = "OpenSSH public key (contents of a .pub file) to upload as the stack's key pair. Set exactly one of ssh_public_key and ssh_key_name."
  default     = null
  # Not a secret itself, but a private key pasted here by mistake must not be
  # printed back in the plan or the logs.
  sensitive = true

  # The key's format, and so a pasted private key, is checked by the keypair
  # module's validation of public_key, whose error shows neither the value nor
  # the lines of the tfvars it came from. A validation failing here would print
  # both, sensitive or not (Terraform 1.11 shows a root variable's value and
  # its -var-file source lines), so this one refuses only an empty string.
  validation {
    condition     = var.ssh_public_key == null || can(regex("\\S", var.ssh_public_key))
    error_message = "ssh_public_key must not be empty: give the one line of the .pub file, or leave it unset and set ssh_key_name."
  }
}

variable "ssh_key_name" {
  type        = string
  description = "Name of a key pair already in the project, used instead of uploading one. Set exactly one of ssh_public_key and ssh_key_name."
  default     = null

  validation {
    condition     = var.ssh_key_name == null || can(regex("^[A-Za-z0-9 _.@-]{1,255}$", var.ssh_key_name))
    error_message = "ssh_key_name must be 1-255 characters of letters, digits, spaces, '_', '.', '@' or '-'."
  }
}

variable "flavor_name" {
  type        = string
  description = "Nova flavor of the server (a1-ram2-disk20-perf1: 1 vCPU, 2 GB, tight for Mailman + PostgreSQL + search; a2-ram4-disk20-perf1 is roomier)."
  default     = "a1-ram2-disk20-perf1"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", var.flavor_name))
    error_message = "flavor_name must be a flavor name such as a1-ram2-disk20-perf1."
  }
}

variable "image_name" {
  type        = string
  description = "Name of the public image to boot, looked up at plan time."
  default     = "Debian 13 trixie"

  validation {
    condition     = length(trimspace(var.image_name)) > 0 && length(var.image_name) <= 255
    error_message = "image_name must be a non-empty image name such as \"Debian 13 trixie\"."
  }
}

variable "network_name" {
  type        = string
  description = "Network the server is attached to (ext-net1 gives public IPv4 and IPv6 on Infomaniak)."
  default     = "ext-net1"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", var.network_name))
    error_message = "network_name must be a network name such as ext-net1."
  }
}

variable "ssh_user" {
  type        = string
  description = "Login user of the image (debian on Debian cloud images)."
  default     = "debian"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.ssh_user))
    error_message = "ssh_user must be a POSIX user name such as debian."
  }
}

variable "fqdn" {
  type        = string
  description = "Fully qualified host name of the server (for example lists.example.org), set by cloud-init. Empty: the server name."
  default     = ""

  validation {
    condition     = var.fqdn == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.fqdn))
    error_message = "fqdn must be empty or a lower-case fully qualified domain name such as lists.example.org."
  }
}

variable "data_volume_enabled" {
  type        = bool
  description = "Create a separate data volume (PostgreSQL, archives, queues) and attach it to the server, so the data outlives a rebuilt server."
  default     = false

  validation {
    condition     = var.data_volume_enabled != null
    error_message = "data_volume_enabled must be true or false."
  }
}

variable "data_volume_size" {
  type        = number
  description = "Size of the data volume in GB (used only when data_volume_enabled)."
  default     = 20

  validation {
    condition     = var.data_volume_size >= 1 && var.data_volume_size <= 16384 && floor(var.data_volume_size) == var.data_volume_size
    error_message = "data_volume_size must be a whole number of GB between 1 and 16384."
  }
}

variable "data_volume_type" {
  type        = string
  description = "Cinder volume type of the data volume (CEPH_1_perf1 on Infomaniak)."
  default     = "CEPH_1_perf1"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", var.data_volume_type))
    error_message = "data_volume_type must be a volume type name such as CEPH_1_perf1."
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
