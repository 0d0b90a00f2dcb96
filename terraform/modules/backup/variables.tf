variable "create" {
  type        = bool
  description = "Create the container and the application credential. False: nothing is created or read, and the outputs are null."
  default     = false

  validation {
    condition     = var.create != null
    error_message = "create (backup_enabled of the stack) must be true or false, not null."
  }
}

variable "container_name" {
  type        = string
  description = "Name of the Swift container the backups go to, usually `<name_prefix>-<stack>-backup`."

  validation {
    # Swift allows more (up to 256 bytes, no '/'); this keeps names that the
    # S3 API of the same storage accepts as bucket names too.
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.container_name)) && !strcontains(var.container_name, "..")
    error_message = "container_name (backup_container_name of the stack) must be 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit, without '..' (for example listserver-prod-backup)."
  }
}

variable "credential_name" {
  type        = string
  description = "Name of the application credential, usually `<name_prefix>-<stack>-backup`."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}[a-z0-9]$", var.credential_name))
    error_message = "The application credential name must be 2-64 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "roles" {
  type        = list(string)
  description = "Roles of the application credential in the project: only what object storage needs (`SwiftOperator` on Infomaniak; `member` where the cloud's Swift accepts that role as operator). Must be roles the operator has."
  default     = ["SwiftOperator"]

  validation {
    condition     = length(var.roles) > 0 && alltrue([for r in var.roles : can(regex("^[A-Za-z0-9_.-]{1,255}$", r))])
    error_message = "roles (backup_credential_roles of the stack) must list at least one role name (letters, digits, '_', '.', '-'), for example [\"SwiftOperator\"]; an empty list would hand the server every role of the operator."
  }

  validation {
    condition     = length(setintersection(toset([for r in var.roles : lower(r)]), toset(["admin", "manager"]))) == 0
    error_message = "roles (backup_credential_roles of the stack) must not include admin or manager: the backup credential needs object storage only."
  }
}

variable "expires_at" {
  type        = string
  description = "Expiry of the application credential (RFC 3339, for example 2026-12-31T23:59:59Z); after it the server can no longer back up until the credential is replaced. Empty: no expiry."
  default     = ""

  validation {
    condition     = var.expires_at == "" || can(formatdate("YYYY", var.expires_at))
    error_message = "expires_at (backup_credential_expires_at of the stack) must be empty or an RFC 3339 timestamp such as 2026-12-31T23:59:59Z."
  }
}

variable "access_rules_enabled" {
  type        = bool
  description = "Restrict the credential with Keystone access rules to the container's paths on the object-store service. Turn off only if the cloud's object storage refuses tokens of credentials with access rules (its keystonemiddleware lacks `service_type`); the roles then are the only limit."
  default     = true

  validation {
    condition     = var.access_rules_enabled != null
    error_message = "access_rules_enabled (backup_credential_access_rules of the stack) must be true or false, not null."
  }
}

variable "account_path" {
  type        = string
  description = "Path of the Swift account as the object storage service sees it, which the access rules start with. Empty: `/v1/AUTH_<project_id>` of the project Terraform is scoped to."
  default     = ""

  validation {
    condition     = var.account_path == "" || can(regex("^(/[A-Za-z0-9_.-]+)+$", var.account_path))
    error_message = "account_path (backup_swift_account_path of the stack) must be empty or a path such as /v1/AUTH_0123456789abcdef, without a trailing slash or wildcards."
  }
}

variable "region" {
  type        = string
  description = "Region of the container and of the Keystone client. Null: the provider's (OS_REGION_NAME)."
  default     = null

  validation {
    condition     = var.region == null || can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$", var.region))
    error_message = "region must be null or a region name such as dc3-a."
  }
}

variable "metadata" {
  type        = map(string)
  description = "Container metadata (for example `stack`, `managed-by`), to find the stack's containers."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.metadata : can(regex("^[A-Za-z0-9-]{1,128}$", k)) && length(v) <= 256])
    error_message = "Metadata keys must be 1-128 letters, digits or hyphens (they become X-Container-Meta-* headers) and values at most 256 characters."
  }
}
