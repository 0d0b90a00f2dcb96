variable "name" {
  type        = string
  description = "Name of the server, usually `<name_prefix>-<stack>`; also its default hostname."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.name))
    error_message = "The server name must be 2-63 characters of lower-case letters, digits and hyphens (a valid hostname label), starting with a letter."
  }
}

variable "fqdn" {
  type        = string
  description = "Fully qualified host name set by cloud-init (for example `lists.example.org`). Empty: the server name is used as the host name with no domain."
  default     = ""

  validation {
    condition     = var.fqdn == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.fqdn))
    error_message = "fqdn must be empty or a lower-case fully qualified domain name such as lists.example.org."
  }
}

variable "flavor_name" {
  type        = string
  description = "Nova flavor. `a1-ram2-disk20-perf1` (1 vCPU, 2 GB) is the smallest that runs Mailman 3 + PostgreSQL; `a2-ram4-disk20-perf1` leaves room for a search index."
  default     = "a1-ram2-disk20-perf1"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", var.flavor_name))
    error_message = "flavor_name must be a flavor name such as a1-ram2-disk20-perf1 (letters, digits, '.', '_' and '-')."
  }
}

variable "image_name" {
  type        = string
  description = "Name of the public image to boot, looked up at plan time (the most recent image of that name wins)."
  default     = "Debian 13 trixie"

  validation {
    condition     = length(trimspace(var.image_name)) > 0 && length(var.image_name) <= 255
    error_message = "image_name must be a non-empty image name such as \"Debian 13 trixie\"."
  }
}

variable "network_name" {
  type        = string
  description = "Network to attach the server to. On Infomaniak `ext-net1` gives a public IPv4 and IPv6 directly (no router, no floating IP)."
  default     = "ext-net1"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", var.network_name))
    error_message = "network_name must be a network name such as ext-net1 (letters, digits, '.', '_' and '-')."
  }
}

variable "key_pair" {
  type        = string
  description = "Name of the Nova key pair whose public key cloud-init installs for ssh_user."

  validation {
    condition     = length(var.key_pair) > 0
    error_message = "key_pair must name a key pair (the keypair module's `name` output)."
  }
}

variable "security_group_names" {
  type        = list(string)
  description = "Security groups (names) to attach to the server's port."

  validation {
    condition     = length(var.security_group_names) > 0
    error_message = "security_group_names must contain at least one security group, otherwise the server would be unreachable or fully open depending on the cloud's defaults."
  }
}

variable "ssh_user" {
  type        = string
  description = "Login user of the image, created by cloud-init (`debian` on Debian cloud images)."
  default     = "debian"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.ssh_user))
    error_message = "ssh_user must be a POSIX user name such as debian."
  }
}

variable "metadata" {
  type        = map(string)
  description = "Nova server metadata (for example `stack`, `managed-by`), used to find the stack's servers for cleanup."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.metadata : length(k) > 0 && length(k) <= 255 && length(v) <= 255])
    error_message = "Metadata keys must be 1-255 characters and values at most 255 characters."
  }
}

variable "tags" {
  type        = list(string)
  description = "Nova server tags (searchable with `openstack server list --tags`)."
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : length(t) > 0 && length(t) <= 60 && !can(regex("[,/]", t))])
    error_message = "Each tag must be 1-60 characters without commas or slashes."
  }
}
