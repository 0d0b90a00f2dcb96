output "id" {
  description = "ID of the data volume, or null when none is created."
  value       = one(openstack_blockstorage_volume_v3.this[*].id)
}

output "device" {
  description = "Device path Nova reports for the attachment (for example /dev/vdb), or null when no volume is created. The hypervisor may name it differently; by_id_path is the stable name on virtio-blk."
  value       = one(openstack_compute_volume_attach_v2.this[*].device)
}

output "by_id_path" {
  description = "Stable device path /dev/disk/by-id/virtio-<first 20 characters of the volume ID> (virtio-blk), or null when no volume is created."
  value       = var.create ? "/dev/disk/by-id/virtio-${substr(openstack_blockstorage_volume_v3.this[0].id, 0, 20)}" : null
}
