variable "name" {
  type        = string
  description = "Name of the security group, usually `<name_prefix>-<stack>` (for example `listserver-prod`)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}[a-z0-9]$", var.name))
    error_message = "The security group name must be 2-64 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "ssh_allowed_cidrs" {
  type        = list(string)
  description = "CIDRs (IPv4 and/or IPv6, network form such as 203.0.113.0/24 or 2001:db8::/48) allowed to reach SSH (22/tcp). There is no default: opening SSH to the world needs the explicit values 0.0.0.0/0 and ::/0."

  validation {
    condition     = length(var.ssh_allowed_cidrs) > 0
    error_message = "ssh_allowed_cidrs must list at least one CIDR; SSH is how Ansible configures the server."
  }

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "Every entry of ssh_allowed_cidrs must be an IPv4 or IPv6 CIDR with a prefix length, for example 203.0.113.7/32 or 2001:db8::/48."
  }

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : !can(cidrhost(c, 0)) || try(cidrhost(c, 0) == split("/", c)[0], false)])
    error_message = "Every entry of ssh_allowed_cidrs must be written in its network form with lower-case, compressed IPv6 (203.0.113.0/24, not 203.0.113.5/24); OpenStack would otherwise rewrite it and every plan would show a change."
  }

  validation {
    condition     = length(distinct(var.ssh_allowed_cidrs)) == length(var.ssh_allowed_cidrs)
    error_message = "ssh_allowed_cidrs must not contain duplicates."
  }
}

variable "web_allowed_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach HTTP (80/tcp) and HTTPS (443/tcp). Default: everyone, over IPv4 and IPv6."
  default     = ["0.0.0.0/0", "::/0"]

  validation {
    condition     = length(var.web_allowed_cidrs) > 0 && alltrue([for c in var.web_allowed_cidrs : can(cidrhost(c, 0)) && try(cidrhost(c, 0) == split("/", c)[0], false)])
    error_message = "web_allowed_cidrs must be a non-empty list of IPv4/IPv6 CIDRs in network form, for example 0.0.0.0/0 and ::/0."
  }

  validation {
    condition     = length(distinct(var.web_allowed_cidrs)) == length(var.web_allowed_cidrs)
    error_message = "web_allowed_cidrs must not contain duplicates."
  }
}

variable "direct_mx" {
  type        = bool
  description = "Open SMTP (25/tcp) from everywhere, over IPv4 and IPv6, for a server that receives mail directly as the domain's MX. Off by default: the mailbox + relay design needs no port 25."
  default     = false

  validation {
    condition     = var.direct_mx != null
    error_message = "direct_mx must be true or false, not null."
  }
}

variable "allow_ping" {
  type        = bool
  description = "Allow ICMP echo (IPv4) and ICMPv6 echo from everywhere, for monitoring and path-MTU troubleshooting."
  default     = true

  validation {
    condition     = var.allow_ping != null
    error_message = "allow_ping must be true or false, not null."
  }
}

variable "tags" {
  type        = list(string)
  description = "Neutron tags put on the security group (for example `managed-by=listserver`, `stack=prod`), used to find the stack's resources for cleanup."
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : length(t) > 0 && length(t) <= 60 && !can(regex("[,/]", t))])
    error_message = "Each tag must be 1-60 characters without commas or slashes."
  }
}
