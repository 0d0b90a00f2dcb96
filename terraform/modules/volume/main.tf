# Optional data volume. Nothing here exists unless `create` is true.

resource "openstack_blockstorage_volume_v3" "this" {
  count = var.create ? 1 : 0

  name        = var.name
  description = "Data volume of ${var.name} (managed by Terraform)"
  size        = var.size
  volume_type = var.volume_type
  metadata    = var.metadata
}

resource "openstack_compute_volume_attach_v2" "this" {
  count = var.create ? 1 : 0

  instance_id = var.instance_id
  volume_id   = openstack_blockstorage_volume_v3.this[0].id
}
