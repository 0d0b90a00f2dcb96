# Either upload a public key as a new key pair, or look up an existing one by
# name (the lookup fails the plan when the name does not exist).

locals {
  # Whether a key was given is no secret, its text is (public_key is
  # sensitive): count and the outputs need a value that is not marked.
  create = nonsensitive(var.public_key != null)
  # Exactly one of the two inputs; enforced by the precondition on output "name"
  # (a validation that reads two variables needs Terraform >= 1.9).
  exactly_one = local.create != (var.existing_key_name != null)
}

resource "openstack_compute_keypair_v2" "this" {
  count = local.create ? 1 : 0

  name       = var.name
  public_key = trimspace(var.public_key)
}

data "openstack_compute_keypair_v2" "existing" {
  count = !local.create && var.existing_key_name != null ? 1 : 0

  name = var.existing_key_name
}
