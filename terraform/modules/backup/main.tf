# Optional backup target: a Swift container and a restricted application
# credential that lets the server reach that container and nothing else.
# Nothing here exists unless `create` is true.

# The project the operator's credential is scoped to: its ID names the Swift
# account (AUTH_<project_id>) the access rules allow.
data "openstack_identity_auth_scope_v3" "this" {
  count = var.create ? 1 : 0

  name = "current"
}

locals {
  account_path = (
    var.create && var.account_path == "" ? "/v1/AUTH_${one(data.openstack_identity_auth_scope_v3.this[*].project_id)}" : var.account_path
  )
  container_path = "${local.account_path}/${var.container_name}"

  # What restic does with its repository: list and stat the container (its
  # listings are GETs of the container with a prefix), and read, write, update
  # and delete objects under it. Not the container itself: no PUT, POST or
  # DELETE on it, and no other container or account request.
  access_rules = var.access_rules_enabled ? concat(
    [for method in ["GET", "HEAD"] : { path = local.container_path, method = method }],
    [for method in ["GET", "HEAD", "PUT", "POST", "DELETE"] : { path = "${local.container_path}/**", method = method }],
  ) : []
}

resource "openstack_objectstorage_container_v1" "this" {
  count = var.create ? 1 : 0

  name     = var.container_name
  region   = var.region
  metadata = var.metadata

  # A destroy must not erase the backups with the server: Swift refuses to
  # delete a container that still holds objects.
  force_destroy = false
}

resource "openstack_identity_application_credential_v3" "this" {
  count = var.create ? 1 : 0

  name        = var.credential_name
  description = "Backups of ${var.credential_name} to the Swift container ${var.container_name} (managed by Terraform)"
  region      = var.region
  roles       = var.roles
  # May not create other application credentials or trusts.
  unrestricted = false
  expires_at   = var.expires_at == "" ? null : var.expires_at

  dynamic "access_rules" {
    for_each = local.access_rules
    content {
      service = "object-store"
      path    = access_rules.value.path
      method  = access_rules.value.method
    }
  }
}
