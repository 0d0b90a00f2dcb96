output "name" {
  description = "Name of the key pair to give to the instance (created or existing)."
  value       = local.create ? openstack_compute_keypair_v2.this[0].name : one(data.openstack_compute_keypair_v2.existing[*].name)

  precondition {
    condition     = local.exactly_one
    error_message = "Set exactly one of public_key (upload a new key pair) and existing_key_name (use a key pair already in the project)."
  }
}

output "created" {
  description = "True when this module created the key pair (and a destroy removes it), false when an existing key pair is used."
  value       = local.create
}

output "fingerprint" {
  description = "Fingerprint of the key pair, to compare with `ssh-keygen -l -E md5 -f key.pub`."
  value       = local.create ? openstack_compute_keypair_v2.this[0].fingerprint : one(data.openstack_compute_keypair_v2.existing[*].fingerprint)
}
