output "id" {
  description = "ID of the server."
  value       = openstack_compute_instance_v2.this.id
}

output "name" {
  description = "Name of the server (also its Ansible inventory host name)."
  value       = openstack_compute_instance_v2.this.name
}

output "ipv4" {
  description = "Public IPv4 address of the server (empty when the network gives none)."
  value       = openstack_compute_instance_v2.this.access_ip_v4
}

output "ipv6" {
  description = "Public IPv6 address of the server (empty when the network gives none)."
  value       = openstack_compute_instance_v2.this.access_ip_v6
}

output "ssh_user" {
  description = "User to log in as over SSH (the image's default cloud-init user)."
  value       = var.ssh_user
}

output "image_id" {
  description = "ID of the image the name resolved to at plan time."
  value       = data.openstack_images_image_v2.this.id
}
