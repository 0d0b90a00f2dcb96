variable "name" {
  type        = string
  description = "Name of the key pair to create from public_key, usually `<name_prefix>-<stack>`. Ignored when existing_key_name is set."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}[a-z0-9]$", var.name))
    error_message = "The key pair name must be 2-64 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "public_key" {
  type        = string
  description = "OpenSSH public key (one line: `ssh-ed25519 AAAA... comment`) to upload as a new key pair. Set exactly one of public_key and existing_key_name."
  default     = null
  # A private key pasted here by mistake must not be printed back.
  sensitive = true

  validation {
    condition     = var.public_key == null || can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,3}( [^\\n]*)?$", trimspace(var.public_key)))
    error_message = "public_key (ssh_public_key of the stack) must be a single-line OpenSSH public key such as `ssh-ed25519 AAAAC3... user@host` (the .pub file, never the private key)."
  }
}

variable "existing_key_name" {
  type        = string
  description = "Name of a key pair that already exists in the project, used as is. Set exactly one of public_key and existing_key_name."
  default     = null

  validation {
    condition     = var.existing_key_name == null || can(regex("^[A-Za-z0-9 _.@-]{1,255}$", var.existing_key_name))
    error_message = "existing_key_name (ssh_key_name of the stack) must be 1-255 characters of letters, digits, spaces, '_', '.', '@' or '-' (Nova's key pair name rules)."
  }
}
