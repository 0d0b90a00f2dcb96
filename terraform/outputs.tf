output "name" {
  description = "Name shared by the stack's resources (`<name_prefix>-<stack_name>`)."
  value       = local.name
}

output "server_id" {
  description = "ID of the server."
  value       = module.instance.id
}

output "ipv4" {
  description = "Public IPv4 address of the server (for the DNS A record)."
  value       = module.instance.ipv4
}

output "ipv6" {
  description = "Public IPv6 address of the server (for the DNS AAAA record)."
  value       = module.instance.ipv6
}

output "ssh_user" {
  description = "User Ansible and you log in as."
  value       = module.instance.ssh_user
}

output "key_pair_name" {
  description = "Key pair installed on the server (created by this stack or existing)."
  value       = module.keypair.name
}

output "security_group_id" {
  description = "ID of the stack's security group."
  value       = module.secgroup.id
}

output "volume_id" {
  description = "ID of the data volume, or null when data_volume_enabled is false."
  value       = module.volume.id
}

output "volume_device" {
  description = "Device path Nova reports for the data volume (for example /dev/vdb), or null when there is no data volume."
  value       = module.volume.device
}

output "volume_by_id_path" {
  description = "Stable /dev/disk/by-id path of the data volume (virtio-blk serial = first 20 characters of its ID), or null."
  value       = module.volume.by_id_path
}

output "ansible_inventory" {
  description = "Ansible YAML inventory for this stack (groups listserver > database, mailman, web). `make stack CLIENT=<name>` writes it to clients/<name>/inventory/terraform.yml."
  value       = yamlencode(local.inventory)
}
