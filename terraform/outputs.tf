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

# The backup role's variables (null when backup_enabled is false). The
# non-secret ones are in ansible_inventory too; tools/client.py writes the
# secret, ansible-vault encrypted, next to it (terraform/README.md).

output "backup_target" {
  description = "Backup target for the backup role: `swift`, or null when backup_enabled is false."
  value       = var.backup_enabled ? "swift" : null
}

output "backup_swift_auth_url" {
  description = "Keystone v3 URL the server authenticates at with the backup credential, or null when backup_enabled is false."
  value       = var.backup_enabled ? var.backup_swift_auth_url : null
}

output "backup_swift_region" {
  description = "Region of the backup container, or null when backup_enabled is false."
  value       = module.backup.region
}

output "backup_swift_container" {
  description = "Name of the Swift container of the backups, or null when backup_enabled is false."
  value       = module.backup.container_name
}

output "backup_swift_application_credential_id" {
  description = "ID of the restricted application credential the server backs up with, or null when backup_enabled is false."
  value       = module.backup.application_credential_id
}

output "backup_swift_application_credential_secret" {
  description = "Secret of the backup application credential (sensitive), or null when backup_enabled is false. `make stack` writes it ansible-vault encrypted to inventory/group_vars/all/terraform_vault.yml."
  value       = module.backup.application_credential_secret
  sensitive   = true
}
