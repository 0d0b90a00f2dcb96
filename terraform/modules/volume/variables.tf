variable "create" {
  type        = bool
  description = "Create and attach the data volume. False: nothing is created and the outputs are null."
  default     = false

  validation {
    condition     = var.create != null
    error_message = "create (data_volume_enabled of the stack) must be true or false, not null."
  }
}

variable "name" {
  type        = string
  description = "Name of the volume, usually `<name_prefix>-<stack>-data`."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}[a-z0-9]$", var.name))
    error_message = "The volume name must be 2-64 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "size" {
  type        = number
  description = "Size of the volume in GB (holds PostgreSQL data, Mailman's archives and queues)."
  default     = 20

  validation {
    condition     = var.size >= 1 && var.size <= 16384 && floor(var.size) == var.size
    error_message = "size (data_volume_size of the stack) must be a whole number of GB between 1 and 16384."
  }
}

variable "volume_type" {
  type        = string
  description = "Cinder volume type (`CEPH_1_perf1` on Infomaniak)."
  default     = "CEPH_1_perf1"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", var.volume_type))
    error_message = "volume_type (data_volume_type of the stack) must be a volume type name such as CEPH_1_perf1."
  }
}

variable "instance_id" {
  type        = string
  description = "ID of the server to attach the volume to."

  validation {
    condition     = length(var.instance_id) > 0
    error_message = "instance_id must be the ID of a server (the instance module's `id` output)."
  }
}

variable "metadata" {
  type        = map(string)
  description = "Cinder volume metadata (for example `stack`, `managed-by`), used to find the stack's volumes for cleanup."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.metadata : length(k) > 0 && length(k) <= 255 && length(v) <= 255])
    error_message = "Metadata keys must be 1-255 characters and values at most 255 characters."
  }
}
